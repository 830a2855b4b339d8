"""Referrals, episodes of care (with discharge reason and destination) and key worker allocation (R8)."""
