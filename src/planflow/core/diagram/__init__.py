"""A workflow definition drawn as a state diagram, as plain geometry."""
