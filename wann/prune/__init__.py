"""wann.prune: the pruning companion of wann.

Prune dense numpy MLPs with the classic criteria (magnitude, random, gradient
x weight, SNIP, SynFlow, OBD), scopes, distributions and schedules (one-shot,
IMP with rewinding, AGP, SynFlow iterations), report compression, theoretical
speedup and effective connections, and judge every mask weight-agnostically,
as a WANN, so that pruned nets and WANN champions share one plot.

Modules, one job each: ``dense`` (MLP, training, npz checkpoints), ``data``
(digits, MNIST IDX), ``scores``, ``select``, ``schedules``, ``controls``,
``metrics``, ``bridge`` (shared-weight evaluation, champion files),
``methods`` (schedules composed into masks), ``config``, ``runner``,
``report`` (CSV, table), ``plot``, ``errors``, ``threads`` (one BLAS thread);
``python -m wann.prune CONFIG.yaml`` runs it all.
"""
