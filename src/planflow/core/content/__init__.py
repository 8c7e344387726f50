"""Plan content: the model, its parts and limits, checks, diffs and the text importer."""
