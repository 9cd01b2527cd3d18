"""The `Context` facade: one object per invocation that the CLI (and Python users) call into.

Owns workspace discovery (`-C DIR`, else the nearest parent holding `teamrel.yaml`), the
lazily loaded workspace and state store, and one method per user-facing operation. Each
method is a single call from a CLI command; it returns values (reports, findings) and raises
`TeamrelError`s, and never prints or exits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from teamrel.errors import NotFoundError, TeamrelError, UsageError, WorkspaceNotFound
from teamrel.localstate import default_cache_dir

if TYPE_CHECKING:
    from teamrel import release as _rel  # store / release
    from teamrel.canonical import JSON, JsonObject
    from teamrel.check import CheckReport, HandoffVerdict
    from teamrel.checkrun import CheckSources
    from teamrel.compat import CompatResult
    from teamrel.flagops import FlagStatus
    from teamrel.gates import RecordedScorecard, Scorecards
    from teamrel.htmlreport import HtmlReport
    from teamrel.mcpimport import DriftReport
    from teamrel.mcpimport import ImportPlan as McpImportPlan
    from teamrel.meet import DriftReport as MeetDriftReport
    from teamrel.models import EnvironmentSpec
    from teamrel.plandoc import Plan
    from teamrel.progress import Progress
    from teamrel.rollout import RolloutReport
    from teamrel.rules import TeamRules
    from teamrel.scaffold import InitResult
    from teamrel.sources import SyncReport
    from teamrel.sources.a2a_import import ImportPlan as A2aImportPlan
    from teamrel.sources.openai_agents import ImportReport
    from teamrel.store import FlagChange, RolloutState, Store
    from teamrel.workspace import ValidationReport, Workspace

WORKSPACE_FILE = "teamrel.yaml"


def find_workspace(start: Path | None = None) -> Path:
    """The directory holding `teamrel.yaml`: `start` itself, or its nearest parent that does."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / WORKSPACE_FILE).is_file():
            return candidate
    raise WorkspaceNotFound(
        f"no {WORKSPACE_FILE} in {here} or any parent directory",
        hint="run inside a teamrel workspace or pass -C DIR",
    )


class Context:
    """Entry point of every operation on one workspace (and its state store)."""

    def __init__(self, workspace: Path | str | None = None, db_url: str | None = None) -> None:
        self._workspace_arg = Path(workspace) if workspace is not None else None
        self._db_url = db_url
        self._root: Path | None = None
        #: the rules of teamrel.yaml once read (`team_rules`)
        self._rules: TeamRules | None = None

    @property
    def root(self) -> Path:
        """The workspace directory (found on first use)."""
        if self._root is None:
            if self._workspace_arg is not None:
                if not self._workspace_arg.is_dir():
                    raise WorkspaceNotFound(
                        f"{self._workspace_arg}: no such directory"
                        if not self._workspace_arg.exists()
                        else f"{self._workspace_arg}: not a directory"
                    )
                if not (self._workspace_arg / WORKSPACE_FILE).is_file():
                    raise WorkspaceNotFound(
                        f"{self._workspace_arg}: no {WORKSPACE_FILE} in this directory"
                    )
                self._root = self._workspace_arg.resolve()
            else:
                self._root = find_workspace()
        return self._root

    # ---------------------------------------------------------------- workspace

    def load(self, *, progress: Progress | None = None) -> Workspace:
        """The loaded, resolved workspace (cached); `WorkspaceError` lists every problem."""
        cached: Workspace | None = getattr(self, "_workspace", None)
        if cached is None:
            from teamrel.workspace import load_workspace

            cached = self._workspace = load_workspace(self.root, progress=progress)
            self._remember_rules(cached)
        return cached

    def _remember_rules(self, ws: Workspace) -> None:
        # the file was just parsed whole: the next promote/rollback/status need not parse it
        from teamrel.rules import remember_rules

        if ws.file_sha256 is not None:
            remember_rules(self.root, ws.file_sha256, _rules_of(ws))

    def validate(self) -> ValidationReport:
        """Every error and warning of the workspace (never raises for bad content)."""
        from teamrel.workspace import check_workspace

        report = check_workspace(self.root)
        if report.workspace is not None:
            self._workspace = report.workspace
        return report

    def graph(self) -> Workspace:
        """The workspace whose `graph` `teamrel graph` renders."""
        return self.load()

    def checked_graph(
        self, *, progress: Progress | None = None
    ) -> tuple[Workspace, dict[str, HandoffVerdict]]:
        """`teamrel graph --check`: the workspace whose graph is drawn and the verdict of
        `teamrel check` on each of its edges (edge key -> its worst verdict over the default
        state, every flag state and every compatibility-mode pair), as `check` finds them
        (the result cache included)."""
        return self.load(), self.check(progress=progress).handoff_verdicts()

    def sync_contracts(
        self, *, check: bool = False, python_path: Sequence[Path] = ()
    ) -> SyncReport:
        """`teamrel contracts sync`: regenerate the contract files generated from code (under
        `check`, only name the stale ones). `python_path`: directories the models are
        imported from, after the workspace root. Raises `SourceError` listing every source
        that cannot be generated; then nothing is written."""
        from teamrel.sources import sync_contracts

        return sync_contracts(
            self.root, check=check, python_path=[Path(p).resolve() for p in python_path]
        )

    def import_openai_agents(
        self, entry: str, *, python_path: Sequence[Path] = (), apply: bool = False
    ) -> ImportReport:
        """`teamrel import openai-agents`: the SDK team reachable from `entry` into the
        workspace (`-C DIR`, else the nearest one, else a new one in the current directory).
        An existing workspace is written only when `apply`. Raises `InputError` /
        `SourceError` (nothing written) when the team cannot be imported or mapped."""
        from teamrel.sources.openai_agents import import_openai_agents

        if self._workspace_arg is not None:
            root = self._workspace_arg.resolve()
            if root.exists() and not root.is_dir():
                raise WorkspaceNotFound(f"{self._workspace_arg}: not a directory")
        else:
            try:
                root = find_workspace()
            except WorkspaceNotFound:
                root = Path.cwd().resolve()
        return import_openai_agents(
            root, entry, python_path=[Path(p).resolve() for p in python_path], apply=apply
        )

    # ---------------------------------------------------------------- A2A

    def import_a2a(
        self,
        *,
        card: Path | None = None,
        url: str | None = None,
        member: str | None = None,
        skill: str | None = None,
        team: str | None = None,
        timeout: float | None = None,
    ) -> A2aImportPlan:
        """`teamrel import a2a`: what importing the AgentCard `card` (a file) or served at
        `url` would change (computed and validated; nothing is written: `apply_import`).

        The workspace is the usual one, or, when there is none, the `-C` directory (else the
        current one), where a new `teamrel.yaml` is planned. Raises `CardError` naming the card.
        """
        from teamrel.sources.a2a import DEFAULT_TIMEOUT_S, fetch_card, parse_card, read_card_path
        from teamrel.sources.a2a_import import plan_import

        if (card is None) == (url is None):
            raise UsageError("give a card file or --url (exactly one)")
        try:
            root = self.root
        except WorkspaceNotFound:
            if self._workspace_arg is not None and not self._workspace_arg.is_dir():
                raise
            root = (self._workspace_arg or Path.cwd()).resolve()
        if card is not None:
            parsed = read_card_path(card, str(card))
        else:
            assert url is not None
            data, where = fetch_card(url, timeout=timeout or DEFAULT_TIMEOUT_S)
            parsed = parse_card(data, where)
        return plan_import(
            root, parsed, card_file=card, url=url, member=member, skill=skill, team=team
        )

    def apply_a2a_import(self, plan: A2aImportPlan) -> None:
        """Write what `import_a2a` planned (each file atomically, teamrel.yaml last)."""
        from teamrel.sources.a2a_import import apply_import

        apply_import(plan)

    def export_a2a(
        self, member: str, *, url_base: str | None = None, out: Path | None = None
    ) -> dict[str, JSON]:
        """`teamrel export a2a`: member `member` as a v1.0 AgentCard (JSON) carrying the
        teamrel extension with its schemas, validated by the A2A SDK's types; written
        atomically to `out` when given."""
        import json

        from teamrel.fileio import atomic_write
        from teamrel.sources.a2a_import import export_card

        card = export_card(self.load(), member, url_base=url_base)
        if out is not None:
            text = json.dumps(card, indent=2, ensure_ascii=False) + "\n"
            atomic_write(out, text.encode("utf-8"))
        return card

    # ---------------------------------------------------------------- MCP

    def plan_mcp_import(
        self,
        *,
        command: str | None = None,
        url: str | None = None,
        tools: Sequence[str] = (),
        external: bool = False,
        timeout: float = 30.0,
    ) -> McpImportPlan:
        """`teamrel import mcp`: read the MCP server (`command` on stdio, run in the workspace,
        or `url`, streamable HTTP) and compute every file the import would write, validated,
        writing nothing (`apply_mcp_import` writes). `tools`: only these. Raises
        `McpSourceError` naming the server when it cannot be read or lists an unusable tool."""
        from teamrel.mcpimport import make_origin, plan_import

        origin = make_origin(command=command, url=url)
        return plan_import(self.root, origin, only=tools, external=external, timeout=timeout)

    def apply_mcp_import(self, plan: McpImportPlan) -> list[str]:
        """Write what `plan_mcp_import` computed (contracts first, teamrel.yaml last)."""
        from teamrel.mcpimport import apply_import

        self.__dict__.pop("_workspace", None)  # the workspace changes under us
        return apply_import(self.root, plan)

    def mcp_drift(
        self,
        *,
        command: str | None = None,
        url: str | None = None,
        tools: Sequence[str] = (),
        timeout: float = 30.0,
    ) -> DriftReport:
        """`teamrel import mcp --check`: the live server against the workspace's members of
        that server, a compat verdict per tool (a narrowed input or a dropped output breaks)."""
        from teamrel.mcpimport import check_drift, make_origin

        origin = make_origin(command=command, url=url)
        return check_drift(self.root, origin, only=tools, timeout=timeout)

    # ---------------------------------------------------------------- compat

    def compat(
        self, producer: Path, consumer: Path, *, format_assertion: bool = False
    ) -> CompatResult:
        """`teamrel compat`: is every value valid under the producer file valid under the
        consumer file? Needs no workspace: each file's cross-file `$ref`s are resolved relative
        to its own directory. Unreadable or invalid input raises an `InputError` naming the
        file and the JSON pointer."""
        from teamrel.compat import check
        from teamrel.contracts import load_compared

        producer_doc, consumer_doc = load_compared(producer, consumer)
        return check(producer_doc, consumer_doc, format_assertion=format_assertion)

    # ---------------------------------------------------------------- check / plan

    def _store_factory(self) -> Any:
        # check and plan only read: the same cached store every other read uses, so
        # close_store() releases it
        return self._read_store

    def check(
        self,
        *,
        members: Sequence[str] = (),
        changed_since: str | None = None,
        against: str | None = None,
        unknown: Literal["fail", "warn"] | None = None,
        format_assertion: bool | None = None,
        use_cache: bool = True,
        progress: Progress | None = None,
    ) -> CheckReport:
        """`teamrel check`: prove every handoff (or those touching the selected members), and
        the pairs the handoffs' compatibility modes add with the releases still live
        (`teamrel.meet.mode_edges`; not with `against`, which pins a base instead).

        `against` (an environment, a manifest file or a release name) pins every member that
        is not selected (or, without a selection, not changed from it) to that release.
        `progress` hears of the members loaded and the handoffs proved (`teamrel.progress`).
        """
        from teamrel.checkrun import CheckOptions, check_team

        opts = CheckOptions(
            members=members,
            changed_since=changed_since,
            against=against,
            unknown=unknown,
            format_assertion=format_assertion,
            cache_dir=default_cache_dir(self.root) if use_cache else None,
        )
        return check_team(self._check_sources(), opts, progress=progress)

    def _check_sources(self) -> CheckSources:
        """Where `check` reads from, each loaded only when needed (`teamrel.checkrun`)."""
        from teamrel.checkrun import CheckSources

        def has_modes() -> bool:
            self.team_rules()
            return self._rules is not None and bool(self._rules.modes)

        return CheckSources(
            root=self.root,
            load=lambda progress: self.load(progress=progress),
            store=self._store_factory(),
            optional_store=self._optional_store,
            has_modes=has_modes,
        )

    def _optional_store(self) -> Store | None:
        """The state store for reading if one may be opened, else None (compat modes read the
        releases live in it)."""
        return self._read_store() if self._store_possible() else None

    def _store_possible(self) -> bool:
        """Whether a state store may be opened for reading (a URL, or a workspace)."""
        import os

        from teamrel.store import DATABASE_URL_ENV

        return bool(self._db_url or os.environ.get(DATABASE_URL_ENV)) or (
            self._root_or_none() is not None
        )

    def plan(
        self,
        *,
        env: str | None = None,
        base: str | None = None,
        unknown: Literal["fail", "warn"] | None = None,
        format_assertion: bool | None = None,
        explain: bool = False,
        use_cache: bool = True,
        against: str | None = None,
        progress: Progress | None = None,
    ) -> Plan:
        """`teamrel plan`: the working tree against `env`'s live release, a manifest (`base`:
        a file or a release name), else the newest manifest under manifests/, else nothing.

        `against` is either, resolved as `teamrel check --against` does, so one CI input can
        name the base of both commands. `progress` hears of the members loaded, the handoffs
        proved and the changed members compared (`teamrel.progress`)."""
        from teamrel.planrun import plan_team

        return plan_team(
            self.load(progress=progress),
            env=env,
            base=base,
            against=against,
            store=self._store_factory(),
            optional_store=self._optional_store,
            unknown=unknown,
            format_assertion=format_assertion,
            explain=explain,
            cache_dir=default_cache_dir(self.root) if use_cache else None,
            progress=progress,
        )

    # ---------------------------------------------------------------- evals

    def eval_record(
        self, member: str, suite: str, results: Path, *, results_format: str = "auto"
    ) -> RecordedScorecard:
        """`teamrel eval record`: ingest per-case results into the member's scorecard."""
        from teamrel.gates import record

        ws = self.load()
        return record(
            self.root, ws.members, member, suite, results, display=str(results), fmt=results_format
        )

    def eval_show(self, member: str | None = None) -> Scorecards:
        """`teamrel eval show`: every recorded scorecard with its summary and freshness."""
        from teamrel.gates import show

        return show(self.load().members, member)

    def read_plan(self, path: Path) -> Plan:
        """A plan saved with `teamrel plan --out` (refuses unknown major versions)."""
        from teamrel.plan import read_plan

        return read_plan(path)

    # ---------------------------------------------------------------- store / release

    def store(self) -> Store:
        """The state store (`--db`, else TEAMREL_DATABASE_URL, else .teamrel/state.db),
        created if it does not exist yet: for operations that write."""
        cached: Store | None = getattr(self, "_store", None)
        if cached is not None and cached.is_missing:
            self.close_store()  # the read-only stand-in: open (create) the real store
            cached = None
        if cached is None:
            from teamrel.store import open_store

            root = self.root if self._db_url is None else self._root_or_none()
            cached = self._store = open_store(self._db_url, root)
        return cached

    def _read_store(self) -> Store:
        """The state store for an operation that only reads: a SQLite store that does not
        exist yet is not created (an empty stand-in answers "nothing released yet")."""
        cached: Store | None = getattr(self, "_store", None)
        if cached is None:
            from teamrel.store import open_store

            root = self.root if self._db_url is None else self._root_or_none()
            cached = self._store = open_store(self._db_url, root, create=False)
        return cached

    @contextlib.contextmanager
    def _naming_a_missing_store(self, store: Store) -> Iterator[None]:
        # without a store nothing can be found in it: say so rather than "nothing is live"
        try:
            yield
        except NotFoundError as err:
            if not store.is_missing:
                raise
            raise NotFoundError(
                f"{err.message}: the state store {store.url} does not exist yet",
                hint=err.hint
                or "nothing has been released yet (teamrel release creates the store)",
            ) from None

    def close_store(self) -> None:
        """Release the state store's connections (the CLI calls this after each command)."""
        cached: Store | None = getattr(self, "_store", None)
        if cached is not None:
            cached.close()
            del self._store

    def _root_or_none(self) -> Path | None:
        try:
            return self.root
        except WorkspaceNotFound:
            return None

    def team_rules(self, *, writes: bool = False) -> tuple[str, dict[str, EnvironmentSpec]]:
        """The team name and environment rules, read without resolving the members.

        Promote, rollback, status and resolve need only these: an incident must not wait for
        every member to be read, nor be blocked by a working tree that no longer loads (a
        missing prompt, a broken schema). See `teamrel.rules` (an index keyed by the digest
        of `teamrel.yaml`); `writes`: the command writes state anyway, so the index may
        create `.teamrel/` (read-only commands leave a fresh clone untouched).
        """
        from teamrel.rules import read_rules

        loaded: Workspace | None = getattr(self, "_workspace", None)
        if loaded is not None:
            self._rules = _rules_of(loaded)
            return loaded.team.team, dict(loaded.team.environments)

        def full_load() -> TeamRules:
            ws = self.load()  # raises with every located problem
            return _rules_of(ws)

        rules = self._rules = read_rules(self.root, full_load, create_state=writes)
        return rules.team, dict(rules.environments)

    def persisted_handoffs(self) -> tuple[tuple[str, str], ...]:
        """`(from, to)` of the handoffs declared `persisted: true` (read like `team_rules`;
        none without a workspace: a store-only rollback has no teamrel.yaml to say)."""
        if self._root_or_none() is None:
            return ()
        if self._rules is None:
            self.team_rules()
        return self._rules.persisted if self._rules is not None else ()

    def release(
        self,
        *,
        name: str | None = None,
        plan: Path | None = None,
        promote: str | None = None,
        allow_incompatible: bool = False,
        reason: str | None = None,
        actor: str | None = None,
        override_gates: bool = False,
    ) -> _rel.ReleaseResult:
        """`teamrel release`: check the working tree (or the reviewed plan), record it as a
        release (manifest file, snapshots, store), and optionally promote it."""
        from teamrel.releaserun import release_team

        return release_team(
            self.load,
            self.check,
            self.store,
            name=name,
            plan=plan,
            promote=promote,
            allow_incompatible=allow_incompatible,
            reason=reason,
            actor=actor,
            override_gates=override_gates,
        )

    def promote(
        self,
        release: str,
        *,
        env: str,
        expect: str | None = None,
        reason: str | None = None,
        actor: str | None = None,
        override_gates: bool = False,
    ) -> _rel.TransitionResult:
        """`teamrel promote`: make a release live in an environment (compare-and-swap).

        With persisted handoffs, the result's pending step (`TransitionResult.finish()`, run
        once the result is shown) proves the rollback this promotion makes possible, so that
        an incident's `teamrel rollback` reads the answer from the cache."""
        from teamrel import moves
        from teamrel import release as rel

        if override_gates and not (reason and reason.strip()):
            raise UsageError("--override-gates needs --reason TEXT")
        team, envs = self.team_rules(writes=True)
        return moves.promote(
            self.store(),
            self.root,
            team,
            envs,
            release,
            env,
            persisted=self.persisted_handoffs(),
            actor=rel.resolve_actor(actor),
            reason=reason,
            expect=expect,
            override_gates=reason if override_gates else None,
        )

    def rollback(
        self,
        *,
        env: str,
        to: str | None = None,
        steps: int | None = None,
        expect: str | None = None,
        reason: str | None = None,
        actor: str | None = None,
        workspace_check: bool = True,
        force: bool = False,
    ) -> _rel.TransitionResult:
        """`teamrel rollback`: move an environment back to an earlier promotion, refused
        (unless `force`) when a handoff declared `persisted: true` would break (`teamrel.moves`).

        The pointer moves without loading the workspace; comparing the working tree with
        what was rolled back (the re-ship warning) is left pending on the result
        (`TransitionResult.finish()`), and skipped without `workspace_check` or a workspace.
        """
        from teamrel import moves
        from teamrel import release as rel

        team, envs = self.team_rules(writes=True)
        root = self._root_or_none()

        def working() -> dict[str, str]:
            return {n: m.digest for n, m in self.load().members.items()}

        return moves.rollback(
            self.store(),
            root,
            team,
            envs,
            env,
            persisted=self.persisted_handoffs(),
            actor=rel.resolve_actor(actor),
            reason=reason,
            to=to,
            steps=steps,
            expect=expect,
            working_digests=working if workspace_check and root is not None else None,
            force=force,
        )

    def rollout_start(
        self,
        release: str,
        *,
        env: str,
        shadow: bool = False,
        steps: list[float] | None = None,
        reason: str | None = None,
        actor: str | None = None,
        force: bool = False,
    ) -> RolloutState:
        """`teamrel rollout start`: open a progressive rollout of a release in `env`.

        With handoffs declared `persisted: true`, stable and the candidate are proved both
        ways first (`teamrel.moves.start_rollout`): each must read what the other writes
        (else `RolloutUnsafe`, exit 1, unless `force` with a reason)."""
        from teamrel import moves
        from teamrel import release as rel

        team, envs = self.team_rules(writes=True)
        return moves.start_rollout(
            self.store,
            self._root_or_none(),
            team,
            envs,
            release,
            env,
            persisted=self.persisted_handoffs(),
            actor=rel.resolve_actor(actor),
            reason=reason,
            shadow=shadow,
            steps=steps,
            force=force,
        )

    def prime_rollback_safety(self, env: str) -> None:
        """Prove the rollback `env` would make now, so an incident reads the answer from the
        cache (`teamrel promote` leaves it pending on its result; best effort)."""
        from teamrel import moves

        with contextlib.suppress(TeamrelError):
            persisted = self.persisted_handoffs()
            if persisted:  # else there is nothing to prove, and no store to open
                team, _ = self.team_rules()
                moves.prime_rollback_safety(
                    self.store(), self._root_or_none(), team, env, persisted
                )

    def drift(self, env: str | None = None) -> MeetDriftReport:
        """`teamrel drift`: re-read every external member of every environment's live release
        from its origin and prove it against the pin (`teamrel.meet.drift`)."""
        from teamrel import release as rel
        from teamrel.meet import drift

        team, envs = self.team_rules()
        if env is not None:
            rel.environment_rules(envs, env)
        store = self._read_store()
        return drift(store, self.root, team, env=env, cache_dir=default_cache_dir(self.root))

    def rollout_status(self, env: str) -> RolloutReport:
        """`teamrel rollout status`: the open rollout, both arms and the current decision."""
        from teamrel import release as rel
        from teamrel import rollout as ro

        team, envs = self.team_rules()
        rel.environment_rules(envs, env)
        store = self._read_store()
        with self._naming_a_missing_store(store):
            return ro.status(store, team, env)

    def rollout_step(self, env: str, *, actor: str | None = None) -> RolloutReport:
        """`teamrel rollout step`: analyse once and apply the decision."""
        from teamrel import release as rel
        from teamrel import rollout as ro

        team, envs = self.team_rules(writes=True)
        rel.environment_rules(envs, env)
        return ro.step(self.store(), team, env, actor=rel.resolve_actor(actor))

    def rollout_change(
        self, op: str, *, env: str, reason: str | None = None, actor: str | None = None
    ) -> RolloutReport:
        """`teamrel rollout pause|resume|abort|promote`."""
        from teamrel import release as rel
        from teamrel import rollout as ro

        if op not in ("pause", "resume", "abort", "promote"):
            raise UsageError(f"unknown rollout change {op!r}")
        team, envs = self.team_rules(writes=True)
        rules = rel.environment_rules(envs, env)
        return ro.change(
            self.store(),
            team,
            rules,
            env,
            op,  # type: ignore[arg-type]
            actor=rel.resolve_actor(actor),
            reason=reason,
            check_target=rel.target_check(self._root_or_none(), env, rules),
        )

    def outcomes_import(self, path: Path) -> int:
        """`teamrel outcomes import FILE.jsonl`: outcomes computed elsewhere."""
        from teamrel import rollout as ro

        return ro.import_outcomes(self.store(), path)

    def status(self, env: str | None = None) -> _rel.StatusReport:
        """`teamrel status`: what is live where, since when, set by whom."""
        from teamrel import release as rel

        team, envs = self.team_rules()
        return rel.status(self._read_store(), team, envs, env)

    def history(self, env: str | None = None, limit: int | None = None) -> _rel.HistoryReport:
        """`teamrel history`: audit events, newest first."""
        from teamrel import release as rel

        team, envs = self.team_rules()
        return rel.history(self._read_store(), team, envs, env, limit)

    def diff(self, a: str, b: str) -> _rel.ManifestDiff:
        """`teamrel diff A B`: two releases, manifest files or environments, member by member."""
        from teamrel import release as rel

        team, envs = self.team_rules()
        store = self._read_store()
        with self._naming_a_missing_store(store):
            return rel.diff_refs(store, self.root, team, envs, a, b)

    def verify(self, env: str | None = None) -> _rel.VerifyResult:
        """`teamrel verify`: re-hash every manifest and snapshot and walk the audit chain
        (`env`: only the release live there, and the chain)."""
        from teamrel import release as rel

        if env is None:
            return rel.verify(self._read_store(), self._root_or_none())
        team, envs = self.team_rules()
        rel.environment_rules(envs, env)
        store = self._read_store()
        with self._naming_a_missing_store(store):
            return rel.verify(store, None, team=team, env=env)

    # ---------------------------------------------------------------- flags

    def flags_set(
        self,
        env: str,
        flag: str,
        state: str,
        *,
        percent: float | None = None,
        reason: str | None = None,
        actor: str | None = None,
    ) -> FlagChange:
        """`teamrel flags set`: one flag's value in `env` (refused unless the live release
        proved every state it lets runs reach; docs/flags.md)."""
        from teamrel import flagops
        from teamrel import release as rel

        team, envs = self.team_rules(writes=True)
        return flagops.set_value(
            self.store(),
            team,
            rel.environment_rules(envs, env),
            env,
            flag,
            state,
            percent,
            actor=rel.resolve_actor(actor),
            reason=reason,
        )

    def flags_status(self, env: str | None = None) -> FlagStatus:
        """`teamrel flags status`: the flags of the release live in each environment."""
        from teamrel import flagops
        from teamrel import release as rel

        team, envs = self.team_rules()
        if env is not None:
            rel.environment_rules(envs, env)
        store = self._read_store()
        with self._naming_a_missing_store(store):
            return flagops.status(store, team, env)

    def flags_history(self, env: str) -> tuple[str, list[JsonObject]]:
        """`teamrel flags history`: every flag change of `env`, oldest first."""
        from teamrel import flagops
        from teamrel import release as rel

        team, envs = self.team_rules()
        rel.environment_rules(envs, env)
        store = self._read_store()
        with self._naming_a_missing_store(store):
            return team, flagops.history(store, team, env)

    def resolve(self, env: str, member: str | None = None) -> _rel.Resolution:
        """`teamrel resolve`: the exact pinned configuration live in an environment."""
        from teamrel import release as rel

        team, envs = self.team_rules()
        rel.environment_rules(envs, env)
        store = self._read_store()
        with self._naming_a_missing_store(store):
            return rel.resolve(store, team, env, member)

    # ---------------------------------------------------------------- init

    def init(self, example: str = "minimal") -> InitResult:
        """`teamrel init`: scaffold `example` into the `-C` directory, else the current one.

        Does not look for an enclosing workspace: a new one may well sit inside another."""
        from teamrel.scaffold import init_workspace

        directory = self._workspace_arg if self._workspace_arg is not None else Path.cwd()
        return init_workspace(directory, example)

    # ---------------------------------------------------------------- report

    def report(
        self,
        *,
        env: str | None = None,
        base: str | None = None,
        against: str | None = None,
        unknown: Literal["fail", "warn"] | None = None,
        use_cache: bool = True,
        progress: Progress | None = None,
    ) -> HtmlReport:
        """`teamrel report`: the plan (whose handoffs are the check) and the team graph as
        one self-contained HTML page; `progress` as for `plan`."""
        from teamrel.htmlreport import html_report

        plan = self.plan(
            env=env,
            base=base,
            against=against,
            unknown=unknown,
            use_cache=use_cache,
            progress=progress,
        )
        return html_report(plan, self.load().graph)


def _rules_of(ws: Workspace) -> TeamRules:
    """The rules index entry of a loaded workspace (see `teamrel.rules`)."""
    from teamrel.rules import TeamRules, declares_modes, persisted_pairs

    return TeamRules(
        ws.team.team,
        ws.team.environments,
        persisted_pairs(ws.team.handoffs),
        declares_modes(ws.team.policy.compat, [h.compat for h in ws.team.handoffs]),
    )
