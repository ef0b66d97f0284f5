"""Who sees which intelligence record: one rule, as a pure predicate (`rules.is_visible`) and
as the SQL clause every query of records carries (`repository.visible_to`)."""
