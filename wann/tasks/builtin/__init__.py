"""Built-in tasks, one module each; every module registers its task(s) when imported.

The registry imports every module of this package on first lookup, so adding
a task means adding one module here (and its test).
"""
