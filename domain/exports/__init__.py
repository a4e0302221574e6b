"""The token export: the invitations a filter selects, as an xlsx file for mail merge."""
