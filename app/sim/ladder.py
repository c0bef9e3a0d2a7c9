"""One side of a simulated book: price -> size, with the prices kept in best-first order."""

from __future__ import annotations

from bisect import bisect_left, insort


class Ladder:
    """Best-first levels. Bids rank by descending price, asks by ascending (``descending`` flag)."""

    __slots__ = ("_keys", "descending", "levels")

    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self.levels: dict[int, int] = {}
        self._keys: list[int] = []  # rank keys, ascending: -price for bids, price for asks

    def _key(self, price: int) -> int:
        return -price if self.descending else price

    def __len__(self) -> int:
        return len(self.levels)

    def get(self, price: int) -> int:
        return self.levels.get(price, 0)

    def set(self, price: int, size: int) -> None:
        """Set a level's size; 0 removes it."""
        if size < 0:
            raise ValueError(f"negative size {size} at {price}")
        if size == 0:
            if self.levels.pop(price, None) is not None:
                key = self._key(price)
                del self._keys[bisect_left(self._keys, key)]
            return
        if price not in self.levels:
            insort(self._keys, self._key(price))
        self.levels[price] = size

    def best(self) -> int | None:
        return self._key(self._keys[0]) if self._keys else None

    def price_at(self, rank: int) -> int:
        return self._key(self._keys[rank])

    def rank(self, price: int) -> int:
        """Index of ``price`` in best-first order (where it would go when absent)."""
        return bisect_left(self._keys, self._key(price))

    def top(self, n: int | None = None) -> list[tuple[int, int]]:
        keys = self._keys if n is None else self._keys[:n]
        return [(p, self.levels[p]) for p in map(self._key, keys)]

    def clear(self) -> None:
        self.levels.clear()
        self._keys.clear()

    def copy(self) -> Ladder:
        other = Ladder(self.descending)
        other.levels = dict(self.levels)
        other._keys = list(self._keys)
        return other
