"""Learning from incidents: one chronology across every kind of fact, missed opportunities, review packs."""
