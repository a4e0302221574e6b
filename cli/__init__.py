"""The command line: `invitations create-admin | migrate | serve | worker | dev`."""
