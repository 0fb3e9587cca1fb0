r"""Row chunks of a design, with a memory map's pages let go after each chunk.

Reading a ``numpy.memmap`` maps its pages into the process: they count in its resident
set until the kernel reclaims them, so a plain pass over a 4 GB map shows a 4 GB peak.
:func:`row_chunks` hands out row blocks and, for a C-contiguous map opened ``"r"``,
``"r+"`` or ``"w+"`` (read-only or shared: the file or page cache holds the data),
advises the kernel (``madvise(MADV_DONTNEED)``) to drop each block's pages from the
process once it is used; they stay in the page cache and are re-read on the next
pass. A copy-on-write map (``"c"``) may hold private changes that dropping would
discard, so its pages are left alone.
"""

import mmap

import numpy as np


def row_chunks(X, rows_per_chunk):
    """Yield ``(slice, X[slice])`` over the rows of ``X``, paging memory maps out."""
    release = _pager(X)
    n = X.shape[0]
    for start in range(0, n, rows_per_chunk):
        rows = slice(start, min(start + rows_per_chunk, n))
        yield rows, X[rows]
        if release is not None:
            release(rows.start, rows.stop)


def _pager(X):
    """``release(start, stop)`` dropping rows ``start:stop`` of a memory map, or None."""
    buffer = getattr(X, "_mmap", None)
    if (not isinstance(X, np.memmap) or buffer is None or getattr(X, "mode", "c") == "c"
            or not X.flags.c_contiguous or not hasattr(mmap, "MADV_DONTNEED")):
        return None
    view = np.frombuffer(buffer, dtype=np.uint8, count=1)
    base = view.ctypes.data
    del view  # no lasting export: the map can still be closed
    first = X.ctypes.data - base
    row_bytes = X.strides[0]
    size = len(buffer)

    def release(start, stop):
        begin = first + start * row_bytes
        begin -= begin % mmap.PAGESIZE
        end = min(first + stop * row_bytes, size)
        if end > begin:
            buffer.madvise(mmap.MADV_DONTNEED, begin, end - begin)

    return release
