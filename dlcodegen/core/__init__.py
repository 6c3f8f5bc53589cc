"""The contract layer: the plan schema, items, the stage registry and events, the collaborators' protocols and the
errors. It imports nothing else from the package; every other module may import it."""
