"""Letters and cards: code-only invitations printed as PDF, with their postal addresses."""
