import { FormEvent, useState } from 'react';
import { api, enc, Page, Row, SegmentSummary } from '../api';
import { DataTable, ErrorBox, LabeledInput, LabeledSelect, Loading } from '../components';
import { fmtCell, fmtNum, fmtTime, go, hashQuery, href, useId, useLoad } from '../util';
import { ExplainView } from './Unify';
import { CardPrediction, CardPredictions } from './Predictions';
import { CardEnrichment, CardEnrichments } from './Insights';

interface SearchResult {
  total: number;
  items: Row[];
  facets?: Record<string, { value: string; count: number }[]>;
}

export function CustomersPage({ rest }: { rest: string[] }) {
  if (rest[0]) return <CustomerCard id={rest[0]} />;
  return <CustomerSearch />;
}

const PAGE = 25;

/** "LoyaltyTier" -> "Loyalty Tier". */
const words = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ');

/** A filter's heading: an enrichment's field ("Enrichment_BrandAffinity.Value") by the enrichment's name. */
export function facetLabel(field: string): string {
  const m = /^(?:Enrichment|Prediction)_([^.]+)\.(.+)$/.exec(field);
  if (m) return m[2] === 'Value' ? words(m[1]) : m[2].startsWith(m[1]) ? words(m[2]) : `${words(m[1])}: ${words(m[2])}`;
  return field === 'segment' ? 'Segment' : words(field);
}

function CustomerSearch() {
  const qs = hashQuery();
  const q = qs.get('q') ?? '';
  const filters = qs.getAll('filter');
  const offset = Number(qs.get('offset') ?? 0);
  const [text, setText] = useState(q);
  const segments = useLoad(() => api.get<Page<SegmentSummary>>('segments', { limit: 1000 }), []);
  const res = useLoad(() => api.get<SearchResult>('customers/search', { q, filter: filters, limit: PAGE, offset }), [q, filters.join('|'), offset]);
  const setQuery = (nq: string, nf: string[], noff = 0) => {
    const p = new URLSearchParams();
    if (nq) p.set('q', nq);
    nf.forEach((f) => p.append('filter', f));
    if (noff) p.set('offset', String(noff));
    window.location.hash = href('customers') + (p.toString() ? `?${p}` : '');
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQuery(text.trim(), filters);
  };
  const toggle = (f: string) => setQuery(q, filters.includes(f) ? filters.filter((x) => x !== f) : [...filters, f]);
  const segFilter = filters.find((f) => f.startsWith('segment:'))?.slice(8) ?? '';
  const data = res.data;
  const cols = data?.items.length ? ['CustomerId', ...['FullName', 'FirstName', 'LastName', 'Email', 'City', 'State'].filter((c) => data.items.some((r) => c in r))] : undefined;
  return (
    <>
      <div className="page-head">
        <h1>Customers</h1>
      </div>
      <form className="searchbar" role="search" onSubmit={submit}>
        <LabeledInput label="Search customers (name, email, phone, …)" value={text} onChange={setText} name="q" />
        <LabeledSelect label="In segment" value={segFilter} placeholder="Any segment" onChange={(v) => setQuery(q, [...filters.filter((f) => !f.startsWith('segment:')), ...(v ? [`segment:${v}`] : [])])} options={(segments.data?.items ?? []).map((s) => s.name)} />
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      {filters.length ? (
        <div className="chips" aria-label="Active filters">
          {filters.map((f) => (
            <button key={f} type="button" className="chip" onClick={() => toggle(f)} aria-label={`Remove filter ${f}`}>
              {facetLabel(f.slice(0, f.indexOf(':')))}: {f.slice(f.indexOf(':') + 1)} ✕
            </button>
          ))}
        </div>
      ) : null}
      <ErrorBox error={res.error} />
      <div className="search-layout">
        <aside className="facets" aria-label="Filters">
          {Object.entries(data?.facets ?? {}).map(([field, vals]) => (
            <fieldset key={field} data-testid={`facet-${field}`}>
              <legend title={field}>{facetLabel(field)}</legend>
              {vals.slice(0, 12).map((v) => (
                <FacetBox key={v.value} label={`${v.value || '(empty)'} (${fmtNum(v.count)})`} checked={filters.includes(`${field}:${v.value}`)} onChange={() => toggle(`${field}:${v.value}`)} />
              ))}
            </fieldset>
          ))}
        </aside>
        <section className="results" aria-label="Results">
          {res.loading && !data ? <Loading what="customers" /> : null}
          {data ? (
            <>
              <p role="status" data-testid="search-total">
                {fmtNum(data.total)} customer{data.total === 1 ? '' : 's'}
                {q ? ` matching “${q}”` : ''}
              </p>
              <DataTable
                testid="search-results"
                rows={data.items}
                columns={cols}
                render={{ CustomerId: (r) => <a href={href('customers', String(r.CustomerId))}>{String(r.CustomerId)}</a> }}
                empty="No customers match."
              />
              <nav className="pager" aria-label="Result pages">
                <button type="button" disabled={offset <= 0} onClick={() => setQuery(q, filters, Math.max(0, offset - PAGE))}>
                  ← Previous
                </button>
                <span className="muted">
                  {data.total ? `${offset + 1}–${Math.min(offset + PAGE, data.total)} of ${fmtNum(data.total)}` : ''}
                </span>
                <button type="button" disabled={offset + PAGE >= data.total} onClick={() => setQuery(q, filters, offset + PAGE)}>
                  Next →
                </button>
              </nav>
            </>
          ) : null}
        </section>
      </div>
    </>
  );
}

function FacetBox({ label, checked, onChange }: { label: string; checked: boolean; onChange: () => void }) {
  const id = useId('facet');
  return (
    <div className="field check">
      <input id={id} type="checkbox" checked={checked} onChange={onChange} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

interface Card {
  profile: Row;
  measures?: Record<string, unknown>;
  segments?: string[];
  activities?: Row[];
  source_records?: { source: string; key: string; record?: Row | null; matched?: { with: string; rule?: string; score?: number; status?: string }[] }[];
  predictions?: CardPrediction[];
  enrichments?: CardEnrichment[];
}

function CustomerCard({ id }: { id: string }) {
  const card = useLoad(() => api.get<Card>(`customers/${enc(id)}/card`), [id]);
  const [showExplain, setShowExplain] = useState(false);
  const explain = useLoad(() => (showExplain ? api.get<unknown>(`customers/${enc(id)}/explain`) : Promise.resolve(undefined)), [id, showExplain]);
  const [actType, setActType] = useState('');
  const timeline = useLoad(() => api.get<Page<Row>>(`customers/${enc(id)}/activities`, { type: actType, limit: 50 }), [id, actType]);
  const c = card.data;
  const p = c?.profile ?? {};
  const title = String(p.FullName ?? ([p.FirstName, p.LastName].filter(Boolean).join(' ') || `Customer ${id}`));
  const acts = timeline.data?.items ?? c?.activities ?? [];
  const types = Array.from(new Set((c?.activities ?? []).map((a) => String(a.ActivityType ?? a.Type ?? '')).filter(Boolean)));
  return (
    <>
      <div className="page-head">
        <h1 data-testid="card-title">{title}</h1>
        <div className="actions">
          <button type="button" onClick={() => history.back()}>
            Back
          </button>
          <button type="button" onClick={() => setShowExplain(!showExplain)} aria-expanded={showExplain}>
            {showExplain ? 'Hide merge explanation' : 'Explain merge'}
          </button>
        </div>
      </div>
      <ErrorBox error={card.error} />
      {card.loading && !c ? <Loading what="customer" /> : null}
      {showExplain ? (
        <section className="card" aria-labelledby="explain-h" data-testid="explain">
          <h2 id="explain-h">Why these records were merged</h2>
          <ErrorBox error={explain.error} />
          {explain.loading ? <Loading /> : <ExplainView data={explain.data} />}
        </section>
      ) : null}
      {c ? (
        <div className="grid2">
          <section className="card" aria-labelledby="profile-h">
            <h2 id="profile-h">Profile</h2>
            <KeyValues obj={p} />
          </section>
          <div>
            <section className="card" aria-labelledby="measures-h">
              <h2 id="measures-h">Measures</h2>
              <KeyValues obj={c.measures ?? {}} />
            </section>
            <section className="card" aria-labelledby="segs-h">
              <h2 id="segs-h">Segments</h2>
              {c.segments?.length ? (
                <ul className="chips">
                  {c.segments.map((s) => (
                    <li key={s}>
                      <a className="chip" href={href('segments', s)}>
                        {s}
                      </a>
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">In no segment.</p>
              )}
            </section>
            {c.predictions ? <CardPredictions predictions={c.predictions} /> : null}
            {c.enrichments ? <CardEnrichments enrichments={c.enrichments} /> : null}
          </div>
          <section className="card" aria-labelledby="tl-h">
            <h2 id="tl-h">Activity timeline</h2>
            <LabeledSelect label="Activity type" value={actType} placeholder="All types" onChange={setActType} options={types} />
            <ErrorBox error={timeline.error} />
            {acts.length ? (
              <ol className="timeline">
                {acts.map((a, i) => (
                  <li key={i}>
                    <time>{fmtTime(a.ActivityTime ?? a.Timestamp)}</time> <strong>{String(a.ActivityType ?? a.Type ?? '')}</strong> {a.Activity ? <span className="muted">{String(a.Activity)}</span> : null} {a.Subject ? String(a.Subject) : ''}
                    {a.Amount !== undefined && a.Amount !== null ? <span className="amount"> {fmtNum(a.Amount)}</span> : null}
                  </li>
                ))}
              </ol>
            ) : (
              <p className="muted">No activities.</p>
            )}
          </section>
          <section className="card" aria-labelledby="src-h">
            <h2 id="src-h">Source records</h2>
            {(c.source_records ?? []).map((r, i) => (
              <details key={i}>
                <summary>
                  {r.source}:{r.key}
                  {(r.matched ?? []).map((m, k) => (
                    <span key={k} className="muted small">
                      {' '}
                      · matched {m.with} by {m.rule}
                      {m.score !== undefined ? ` (score ${fmtNum(m.score, 3)})` : ''}
                      {m.status && m.status !== 'merged' ? ` [${m.status}]` : ''}
                    </span>
                  ))}
                </summary>
                <KeyValues obj={r.record ?? {}} />
              </details>
            ))}
          </section>
        </div>
      ) : null}
    </>
  );
}

export function KeyValues({ obj }: { obj: Record<string, unknown> }) {
  const entries = Object.entries(obj);
  if (!entries.length) return <p className="muted">None.</p>;
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'number' ? fmtNum(v, 2) : fmtCell(v) || '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

export function gotoCustomer(id: string | number) {
  go('customers', id);
}
