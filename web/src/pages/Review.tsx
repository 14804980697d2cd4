// The review queue: candidate pairs the probabilistic model was unsure about
// (GET /api/v1/unification/review?explain=1), side by side with both records'
// values and the explanation; Accept / Reject add an always / never override
// (applied at the next refresh, and a label the model learns from).
import { useEffect, useState } from 'react';
import { api } from '../api';
import { DataTable, ErrorBox, Loading, Notice, Pager, Tile } from '../components';
import { fmtNum, href, useAction, useLoad } from '../util';
import { PairView, PairExplain } from './Unify';

interface QueuePair {
  a: string;
  b: string;
  probability: number;
  weight?: number;
  rule?: string;
  values_a?: Record<string, string>;
  values_b?: Record<string, string>;
  explanation?: PairExplain & { error?: string };
}
interface Queue {
  total: number;
  decided: number;
  offset?: number;
  items: QueuePair[];
}

const PAGE = 10;

export function ReviewPage() {
  const [offset, setOffset] = useState(0);
  const queue = useLoad(() => api.get<Queue>('unification/review', { limit: PAGE, offset, explain: 1 }), [offset]);
  const act = useAction();
  const [last, setLast] = useState<string>();
  const q = queue.data;
  // Deciding the last pair of a later page leaves it empty: go back a page.
  useEffect(() => {
    if (q && q.items.length === 0 && offset > 0) setOffset(Math.max(0, offset - PAGE));
  }, [q, offset]);
  const decide = (p: QueuePair, accept: boolean) =>
    act.run(async () => {
      const route = accept ? 'POST /api/v1/unification/review/accept' : 'POST /api/v1/unification/review/reject';
      await api.send(route, `unification/review/${accept ? 'accept' : 'reject'}`, { a: p.a, b: p.b });
      setLast(`${p.a} and ${p.b}: ${accept ? 'accepted (always match)' : 'rejected (never match)'}. It applies at the next refresh.`);
      queue.reload();
    });
  return (
    <>
      <div className="page-head">
        <h1>Review</h1>
      </div>
      <p className="muted">
        Pairs of records the probabilistic model was unsure about at the last unification. Accepting a pair makes the two records one person, rejecting
        keeps them apart; either becomes a match override (see <a href={href('unify')}>Unify</a>) used from the next refresh on, and a labelled pair the model
        learns from.
      </p>
      <ErrorBox error={queue.error} />
      <ErrorBox error={act.error} title="Decision" />
      {last ? <div className="notice" role="status">{last}</div> : null}
      {q ? (
        <>
          <div className="tiles">
            <Tile label="Pairs to review" value={fmtNum(q.total, 0)} testid="review-count" />
            <Tile label="Decided by an override" value={fmtNum(q.decided, 0)} />
          </div>
          {q.items.length === 0 ? (
            <Notice>Nothing to review. The queue fills in probabilistic mode, with the pairs whose match probability lies between review_min_probability and the threshold.</Notice>
          ) : (
            <>
            <p className="muted" data-testid="review-range">
              Pairs {fmtNum((q.offset ?? 0) + 1, 0)}–{fmtNum((q.offset ?? 0) + q.items.length, 0)} of {fmtNum(q.total, 0)}, most uncertain first.
            </p>
            {q.items.map((p) => (
              <section key={`${p.a}|${p.b}`} className="card review-pair" data-testid="review-pair" aria-label={`${p.a} and ${p.b}`}>
                <h2>
                  {p.a} · {p.b}
                </h2>
                <p>
                  Match probability <strong>{fmtNum(p.probability, 3)}</strong>
                  {p.weight !== undefined && p.weight !== null ? `, weight ${fmtNum(p.weight, 2)} bits` : ''}
                </p>
                <SideBySide a={p.values_a ?? {}} b={p.values_b ?? {}} nameA={p.a} nameB={p.b} />
                {p.explanation?.error ? <ErrorBox error={new Error(p.explanation.error)} title="Explain" /> : p.explanation ? <PairView p={p.explanation} /> : null}
                <div className="row">
                  <button type="button" className="primary" disabled={act.busy} onClick={() => decide(p, true)}>
                    Accept
                  </button>
                  <button type="button" disabled={act.busy} onClick={() => decide(p, false)}>
                    Reject
                  </button>
                </div>
              </section>
            ))}
            <Pager
              label="Review queue"
              hasPrev={offset > 0}
              hasNext={(q.offset ?? 0) + q.items.length < q.total}
              onPrev={() => setOffset(Math.max(0, offset - PAGE))}
              onNext={() => setOffset(offset + PAGE)}
            />
            </>
          )}
        </>
      ) : queue.loading ? (
        <Loading what="the review queue" />
      ) : null}
    </>
  );
}

/** Both records' values, one row per field either has. */
function SideBySide({ a, b, nameA, nameB }: { a: Record<string, string>; b: Record<string, string>; nameA: string; nameB: string }) {
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const rows = fields.map((f) => ({ field: f, [nameA]: a[f] ?? '', [nameB]: b[f] ?? '' }));
  return <DataTable rows={rows} columns={['field', nameA, nameB]} testid="review-values" />;
}
