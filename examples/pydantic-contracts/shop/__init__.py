"""The application's own message models: teamrel generates the contracts from them."""
