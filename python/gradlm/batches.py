"""Mini-batch order: which rows each step of an epoch sees.

With ``shuffle=True`` the order is exactly the one
``DataLoader(TensorDataset(X, y), batch_size, shuffle=True, generator=g)`` gives
under the same seed: ``g = torch.Generator().manual_seed(seed)`` when ``seed``
is given, the global torch RNG (``generator=None``) otherwise. The tutorials'
DataLoader runs are therefore reproducible, batch for batch, without the
DataLoader's per-row cost.

``shuffle="batches"`` is the cheaper order: the rows are cut once into
contiguous batches, and each epoch visits those batches in a random order.
No rows are gathered (a batch is a slice of the data as they lie), so an epoch
costs about what an unshuffled one does; but a batch holds the same rows
every epoch, and rows in the data's own order: on data sorted by anything
that matters (time, a group, the response), shuffle them once first.
"""

from __future__ import annotations

from typing import Iterator, Optional, Union

import torch


class BatchOrder:
    """Yields each epoch's batches as index tensors (shuffled) or slices (in order).

    >>> order = BatchOrder(5, batch_size=2, shuffle=False)
    >>> list(order.epoch())
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """

    def __init__(self, n: int, batch_size: int, shuffle: Union[bool, str], seed: Optional[int] = None,
                 device=None) -> None:
        self.n = n
        self.device = device
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)

    def permutation(self) -> torch.Tensor:
        """The next epoch's row order, drawn as DataLoader's RandomSampler draws it."""
        # DataLoader's iterator first draws a base seed for its workers ...
        torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        generator = self.generator
        if generator is None:
            # ... then RandomSampler, without a generator, seeds a fresh one from the global RNG.
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
            generator = torch.Generator().manual_seed(seed)
        perm = torch.randperm(self.n, generator=generator)
        if self.generator is not None:
            # RandomSampler's trailing `randperm(n)[:0]` runs when the epoch is exhausted;
            # with a shared generator it shifts the next epoch's draws, so it is drawn too.
            torch.randperm(self.n, generator=generator)
        return perm

    def epoch(self) -> Iterator:
        """Each batch's rows: a slice (in order) or an index tensor (shuffled)."""
        bs = self.batch_size
        for rows in self.blocks(bs):
            if isinstance(rows, slice):
                yield rows
            else:
                for start in range(0, len(rows), bs):
                    yield rows[start : start + bs]

    def blocks(self, rows_per_block: int = 1 << 16) -> Iterator:
        """The epoch's rows in blocks of whole batches (about ``rows_per_block`` rows).

        Gathering a block of shuffled rows at once, then slicing its batches as
        views, costs one indexing call per block instead of one per batch, and
        memory for one block, not a shuffled copy of the data.
        """
        bs = self.batch_size
        step = bs * max(1, rows_per_block // bs)
        if self.shuffle == "batches":  # contiguous batches, in a random order (drawn from the same generator)
            for b in torch.randperm(-(-self.n // bs), generator=self.generator).tolist():
                yield slice(b * bs, min((b + 1) * bs, self.n))
            return
        if not self.shuffle:
            for start in range(0, self.n, step):
                yield slice(start, min(start + step, self.n))
            return
        perm = self.permutation()
        if self.device is not None:
            perm = perm.to(self.device)  # drawn on the CPU, as DataLoader draws it; used where the data are
        for start in range(0, self.n, step):
            yield perm[start : start + step]
