#!/usr/bin/python3
"""Item-kNN peer for bench_predictions (issue 18): the same task as cdp's
item_knn (src/predict/recommend.h) on the same purchases, with Debian's
scikit-learn / SciPy: cosine similarity of products on the binary
customer-product incidence before the cut-off (sklearn NearestNeighbors,
metric="cosine", brute force), the `neighbours` most similar products per
product, a customer's score for product j = sum of sim(i, j) over the products
i they bought, products bought before excluded, the rest of the 10 filled with
the most-purchased products (distinct customers); Success@K and precision@K
on [cutoff, as_of) for customers with a purchase before the cut-off and one in
the hold-back.

Input: a binary file of int32 triples (customer, product, day), rows with a
product only. Usage:
  knn_peer.py FILE CUSTOMERS PRODUCTS CUTOFF AS_OF K NEIGHBOURS
Prints one line: "peer fit_s=… score_s=… fit_cpu=… score_cpu=… customers=… success=… precision=…"
(wall seconds, and CPU seconds of the process, all threads).
Run with /usr/bin/python3 (Debian's python3-sklearn).
"""
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors


def main():
    path = sys.argv[1]
    n_customers, n_products, cutoff, as_of, k, neighbours = (int(a) for a in sys.argv[2:8])
    rows = np.fromfile(path, dtype=np.int32).reshape(-1, 3)
    cust, prod, day = rows[:, 0], rows[:, 1], rows[:, 2]
    before = day < cutoff
    held = (day >= cutoff) & (day < as_of)

    t0, p0 = time.perf_counter(), time.process_time()
    ones = np.ones(int(before.sum()), dtype=np.float32)
    u = sp.csr_matrix((ones, (cust[before], prod[before])), shape=(n_customers, n_products), dtype=np.float32)
    u.sum_duplicates()
    u.data[:] = 1.0  # binary incidence
    items = u.T.tocsr()
    bought_items = np.flatnonzero(np.diff(items.indptr) > 0)
    popularity = np.diff(items.indptr).astype(np.float64)  # distinct customers per product
    x = items[bought_items]
    n_neigh = min(neighbours + 1, x.shape[0])
    nn = NearestNeighbors(n_neighbors=n_neigh, metric="cosine", algorithm="brute").fit(x)
    dist, ind = nn.kneighbors(x)
    src = np.repeat(bought_items, n_neigh)
    dst = bought_items[ind.ravel()]
    sim = 1.0 - dist.ravel()
    keep = (src != dst) & (sim > 0)
    # at most `neighbours` per product after dropping the product itself
    s = sp.csr_matrix((sim[keep].astype(np.float32), (src[keep], dst[keep])), shape=(n_products, n_products))
    for i in range(n_products):
        a, b = s.indptr[i], s.indptr[i + 1]
        if b - a > neighbours:
            order = np.argsort(-s.data[a:b], kind="stable")[neighbours:]
            s.data[a + order] = 0
    s.eliminate_zeros()
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - p0

    t0, p0 = time.perf_counter(), time.process_time()
    has_history = np.diff(u.indptr) > 0
    pop_tiebreak = (popularity / (popularity.max() + 1.0) * 1e-6).astype(np.float32)
    never = popularity == 0  # products nobody bought before the cut-off: not in the model
    recs = np.full((n_customers, k), -1, dtype=np.int32)
    chunk = 20000
    for c0 in range(0, n_customers, chunk):
        c1 = min(n_customers, c0 + chunk)
        uc = u[c0:c1]
        scores = (uc @ s).toarray()
        scores += pop_tiebreak  # after the kNN candidates: the most purchased
        scores[:, never] = -np.inf
        bi = uc.nonzero()
        scores[bi[0], bi[1]] = -np.inf  # no repeats
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        recs[c0:c1] = top
    score_s, score_cpu = time.perf_counter() - t0, time.process_time() - p0

    h = sp.csr_matrix((np.ones(int(held.sum()), dtype=np.float32), (cust[held], prod[held])),
                      shape=(n_customers, n_products))
    h.sum_duplicates()
    evaluated = has_history & (np.diff(h.indptr) > 0)
    idx = np.flatnonzero(evaluated)
    hits = np.zeros(len(idx))
    hd = h[idx]
    for j in range(k):
        hits += np.asarray(hd[np.arange(len(idx)), recs[idx, j]]).ravel() > 0
    n = len(idx)
    success = float((hits > 0).sum()) / n if n else 0.0
    precision = float(hits.sum()) / (n * k) if n else 0.0
    print("peer fit_s=%.3f score_s=%.3f fit_cpu=%.3f score_cpu=%.3f customers=%d success=%.4f precision=%.4f"
          % (fit_s, score_s, fit_cpu, score_cpu, n, success, precision))


if __name__ == "__main__":
    main()
