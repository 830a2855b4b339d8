"""Family and carers (R6): who they are, consent to share, their concerns and the team's responses."""
