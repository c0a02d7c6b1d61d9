"""Accounts: the one gate before every portal sign-in, the account lease, the one table from
error to meaning, and the one service layer for account changes."""
