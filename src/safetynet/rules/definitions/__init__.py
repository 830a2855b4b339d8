"""One file per rule. Each defines ``RULE``; the registry collects them."""
