"""Planning: the `Plan` schema and its parser, the planners, and the `dl-plan-generation` pipeline class."""
