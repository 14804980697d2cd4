import { FormEvent, useEffect, useRef, useState } from 'react';
import { Chart } from 'chart.js';
import { api, ApiError, Row } from '../api';
import type { UnifyConfig as UnifyConfigBody } from '../api';
import { BarChart, DataTable, ErrorBox, LabeledInput, LabeledTextArea, Loading, Tile } from '../components';
import { usePaged } from '../paging';
import { fmtNum, fmtPct, hashQuery, href, useAction, useLoad } from '../util';

interface Stats {
  records_in?: number;
  profiles?: number;
  merge_rate?: number;
  /** accepted: pairs whose records ended in one profile; by_status: unify's pair statuses */
  rules?: { rule: string; pairs: number; accepted: number; by_status?: Record<string, number> }[];
}
interface PairCondition {
  field: string;
  compare?: string;
  a?: unknown;
  b?: unknown;
  similarity?: number;
  passed?: boolean;
}
export interface PairExplain {
  comparisons?: { comparison: string; level?: unknown; m?: number; u?: number; weight?: number }[];
  match_weight?: number;
  match_probability?: number;
  a: string;
  b: string;
  matched?: boolean;
  matched_by?: string | null;
  rules?: { rule: string; applies?: boolean; matched?: boolean; score?: number; conditions?: PairCondition[] }[];
}

export function UnifyPage({ rest }: { rest: string[] }) {
  void rest;
  const stats = useLoad(() => api.get<Stats>('unification/stats'), []);
  const pairs = usePaged<Row>('unification/pairs', {}, 20, []);
  const qs = hashQuery();
  const [a, setA] = useState(qs.get('a') ?? '');
  const [b, setB] = useState(qs.get('b') ?? '');
  const [pair, setPair] = useState<{ a: string; b: string } | null>(qs.get('a') && qs.get('b') ? { a: qs.get('a')!, b: qs.get('b')! } : null);
  const explain = useLoad(() => (pair ? api.get<PairExplain>('unification/explain', pair) : Promise.resolve(undefined)), [pair?.a, pair?.b]);
  const s = stats.data;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setPair({ a: a.trim(), b: b.trim() });
  };
  return (
    <>
      <div className="page-head">
        <h1>Unify</h1>
      </div>
      <ErrorBox error={stats.error} />
      {s ? (
        <>
          <div className="tiles">
            <Tile label="Records in" value={fmtNum(s.records_in)} />
            <Tile label="Profiles out" value={fmtNum(s.profiles)} />
            <Tile label="Merge rate" value={fmtPct(s.merge_rate)} />
          </div>
          {s.rules?.length ? (
            <section className="card" aria-labelledby="rules-h">
              <h2 id="rules-h">Matched pairs per rule</h2>
              <BarChart horizontal label="pairs per rule" labels={s.rules.map((r) => r.rule)} values={s.rules.map((r) => r.pairs)} height={Math.max(160, 28 * s.rules.length)} />
              <DataTable rows={s.rules as unknown as Row[]} columns={['rule', 'pairs', 'accepted']} testid="rule-stats" />
            </section>
          ) : null}
        </>
      ) : stats.loading ? (
        <Loading what="unification results" />
      ) : null}

      <ModelChart />
      <Evaluation />

      <section className="card" aria-labelledby="pairs-h">
        <h2 id="pairs-h">Sample match pairs</h2>
        <ErrorBox error={pairs.error} />
        <DataTable
          rows={pairs.items}
          columns={['a', 'b', 'rule', 'score', 'explain']}
          testid="pairs-table"
          render={{
            explain: (r) => (
              <button
                type="button"
                onClick={() => {
                  setA(String(r.a));
                  setB(String(r.b));
                  setPair({ a: String(r.a), b: String(r.b) });
                  document.getElementById('explain-h')?.scrollIntoView();
                }}
              >
                Explain
              </button>
            ),
          }}
        />
        {pairs.pager('Match pairs')}
      </section>

      <section className="card" aria-labelledby="explain-h">
        <h2 id="explain-h">Explain a pair of records</h2>
        <form className="row" onSubmit={submit}>
          <LabeledInput label="Record A (Source:Key)" value={a} onChange={setA} placeholder="eCommerce Contacts:10039" />
          <LabeledInput label="Record B (Source:Key)" value={b} onChange={setB} placeholder="Loyalty Scheme:L-1" />
          <button type="submit" className="primary" disabled={!a.trim() || !b.trim()}>
            Explain pair
          </button>
        </form>
        <ErrorBox error={explain.error} />
        {explain.data ? <PairView p={explain.data} /> : null}
        <ProfileExplainForm />
      </section>

      <UnifyConfig />
    </>
  );
}

function ProfileExplainForm() {
  const [id, setId] = useState('');
  const [shown, setShown] = useState<string>();
  const ex = useLoad(() => (shown ? api.get<unknown>(`customers/${encodeURIComponent(shown)}/explain`) : Promise.resolve(undefined)), [shown]);
  return (
    <>
      <h3>Explain a profile</h3>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setShown(id.trim());
        }}
      >
        <LabeledInput label="CustomerId" value={id} onChange={setId} />
        <button type="submit" disabled={!id.trim()}>
          Explain profile
        </button>
      </form>
      <ErrorBox error={ex.error} />
      {shown && ex.data ? <ExplainView data={ex.data} /> : null}
    </>
  );
}

export function PairView({ p }: { p: PairExplain }) {
  return (
    <div className="explain-pair" data-testid="pair-explain">
      <p>
        <strong>{p.a}</strong> vs <strong>{p.b}</strong>:{' '}
        {p.matched ? <span className="badge ok">match{p.matched_by ? ` by ${p.matched_by}` : ''}</span> : <span className="badge warn">no match</span>}
      </p>
      {p.comparisons?.length ? (
        <>
          <p>
            Model: match weight {fmtNum(p.match_weight, 3)}, probability {fmtNum(p.match_probability, 3)}
          </p>
          <DataTable rows={p.comparisons as unknown as Row[]} />
        </>
      ) : null}
      {(p.rules ?? []).map((r, i) => (
        <div key={i} className="rule-explain">
          <div>
            Rule <strong>{r.rule}</strong>: {r.applies === false ? 'does not apply' : r.matched ? 'matched' : 'not matched'}
            {r.score !== undefined && r.score !== null ? ` (score ${fmtNum(r.score, 3)})` : ''}
            {(r as { blocked_by_exception_on?: string }).blocked_by_exception_on ? ` — blocked by an exception on ${(r as { blocked_by_exception_on?: string }).blocked_by_exception_on}` : ''}
          </div>
          {r.conditions?.length ? (
            <DataTable
              rows={r.conditions as unknown as Row[]}
              columns={['passed', 'field', 'compare', 'a', 'b', 'similarity']}
              render={{ passed: (c) => (c.passed ? '✔ pass' : '✘ fail'), similarity: (c) => (c.similarity === undefined || c.similarity === null ? '' : fmtNum(c.similarity, 3)) }}
            />
          ) : null}
        </div>
      ))}
    </div>
  );
}

/** Renders a customer explanation (pairs + rules) or a pair explanation. */
export function ExplainView({ data }: { data: unknown }) {
  if (!data) return null;
  const d = data as Record<string, unknown>;
  if (Array.isArray(d.rules) && d.a && d.b) return <PairView p={d as unknown as PairExplain} />;
  const pairs = (Array.isArray(d.pairs) ? d.pairs : Array.isArray(d.items) ? d.items : []) as Record<string, unknown>[];
  const records = (Array.isArray(d.records) ? d.records : Array.isArray(d.source_records) ? d.source_records : []) as unknown[];
  return (
    <div>
      {records.length ? (
        <>
          <h3>Records</h3>
          <DataTable rows={records.map((r) => (typeof r === 'string' ? { record: r } : flat(r as Record<string, unknown>)))} />
        </>
      ) : null}
      {Array.isArray(d.id_changes) && d.id_changes.length ? (
        <>
          <h3>CustomerId changes</h3>
          <DataTable rows={d.id_changes as Row[]} />
        </>
      ) : null}
      <h3>Match pairs</h3>
      {pairs.length ? (
        pairs.map((p, i) =>
          Array.isArray(p.rules) ? (
            <PairView key={i} p={p as unknown as PairExplain} />
          ) : (
            <PairRow key={i} p={p} />
          )
        )
      ) : (
        <p className="muted">{records.length > 1 ? 'No pair details.' : 'This profile comes from a single record: nothing was merged.'}</p>
      )}
      {!pairs.length && !records.length ? <pre className="code">{JSON.stringify(data, null, 2)}</pre> : null}
    </div>
  );
}

function PairRow({ p }: { p: Record<string, unknown> }) {
  const [open, setOpen] = useState(false);
  const ex = useLoad(() => (open ? api.get<PairExplain>('unification/explain', { a: String(p.a), b: String(p.b) }) : Promise.resolve(undefined)), [open]);
  return (
    <div className="pair-row">
      <span>
        {String(p.a)} = {String(p.b)} · rule {String(p.rule ?? p.matched_by ?? '?')}
        {p.score !== undefined ? ` · score ${fmtNum(p.score, 3)}` : ''}
      </span>{' '}
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? 'Hide details' : 'Details'}
      </button>
      <ErrorBox error={ex.error} />
      {open && ex.data ? <PairView p={ex.data} /> : null}
    </div>
  );
}

function flat(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = v2;
    else out[k] = v;
  }
  return out;
}

function UnifyConfig() {
  const cfg = useLoad(() => api.get<unknown>('unification'), []);
  const [text, setText] = useState('');
  const [parseError, setParseError] = useState<string>();
  const save = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (cfg.data !== undefined) setText(JSON.stringify(cfg.data, null, 2));
  }, [cfg.data]);
  return (
    <section className="card" aria-labelledby="cfg-h">
      <h2 id="cfg-h">Unification configuration</h2>
      <p className="muted small">
        Sources with their dedup rules, match rules (conditions with normalizers and comparisons) and merge policies. Saving applies it on the next refresh (<a href={href('admin', 'runs')}>runs</a>).
      </p>
      <ErrorBox error={cfg.error} />
      <RulesSummary cfg={cfg.data} />
      <LabeledTextArea label="Configuration (JSON)" value={text} onChange={(v) => { setText(v); setSaved(false); }} rows={24} />
      <ErrorBox error={parseError ? new Error(parseError) : undefined} />
      <ErrorBox error={save.error} title="Save" />
      {saved ? <div className="notice" role="status">Saved.</div> : null}
      <div className="row">
        <button
          type="button"
          className="primary"
          disabled={save.busy}
          onClick={() => {
            let body: unknown;
            try {
              body = JSON.parse(text);
              setParseError(undefined);
            } catch (e) {
              setParseError(`Not valid JSON: ${(e as Error).message}`);
              return;
            }
            save.run(async () => {
              await api.send('PUT /api/v1/unification', 'unification', body as UnifyConfigBody);
              setSaved(true);
              cfg.reload();
            });
          }}
        >
          Save configuration
        </button>
        <button type="button" onClick={() => cfg.data !== undefined && setText(JSON.stringify(cfg.data, null, 2))}>
          Revert
        </button>
      </div>
    </section>
  );
}

interface CondCfg {
  field?: string;
  normalize?: string[];
  compare?: string;
  threshold?: number;
}
interface RuleCfg {
  name?: string;
  conditions?: CondCfg[];
}

/** A readable view of the match and dedup rules above the JSON editor. */
function RulesSummary({ cfg }: { cfg: unknown }) {
  const c = (cfg ?? {}) as { rules?: RuleCfg[]; sources?: { source?: string; dedup?: { rules?: RuleCfg[] } }[]; merge?: unknown };
  const cond = (x: CondCfg) => `${x.field}${x.normalize?.length ? ` [${x.normalize.join(', ')}]` : ''} ${x.compare ?? 'exact'}${x.threshold !== undefined ? ` ≥ ${x.threshold}` : ''}`;
  const list = (rules?: RuleCfg[]) => (
    <ol>
      {(rules ?? []).map((r, i) => (
        <li key={i}>
          <strong>{r.name ?? `rule ${i + 1}`}</strong>: {(r.conditions ?? []).map(cond).join(' AND ')}
        </li>
      ))}
    </ol>
  );
  if (!c.rules && !c.sources) return null;
  return (
    <div className="grid2">
      <div>
        <h3>Match rules (across sources, in order)</h3>
        {list(c.rules)}
      </div>
      <div>
        <h3>Sources and their dedup rules</h3>
        <ul>
          {(c.sources ?? []).map((s, i) => (
            <li key={i}>
              {s.source}
              {s.dedup?.rules?.length ? list(s.dedup.rules) : <span className="muted"> (no dedup)</span>}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

/** null for a 404 (nothing there yet), the value otherwise. */
function orNull<T>(p: Promise<T>): Promise<T | null> {
  return p.catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e)));
}

interface ModelLevel {
  label?: string;
  m?: number | null;
  u?: number | null;
  weight?: number | null;
}
interface Model {
  prior?: number;
  prior_weight?: number | null;
  comparisons?: { name?: string; levels?: ModelLevel[] }[];
}

/** Probabilistic mode: the trained model's weight per comparison level, in bits (GET /api/v1/unification/model). */
function ModelChart() {
  const model = useLoad(() => orNull(api.get<Model>('unification/model')), []);
  const m = model.data;
  if (model.error) return <ErrorBox error={model.error} title="Model" />;
  if (!m || !Array.isArray(m.comparisons) || m.comparisons.length === 0) return null;
  const bars: { label: string; weight: number; m?: number | null; u?: number | null }[] = [];
  for (const c of m.comparisons) {
    for (const l of c.levels ?? []) {
      const w = typeof l.weight === 'number' && Number.isFinite(l.weight) ? l.weight : 0;
      bars.push({ label: `${c.name ?? '?'}: ${l.label ?? '?'}`, weight: w, m: l.m, u: l.u });
    }
  }
  return (
    <section className="card" aria-labelledby="model-h">
      <h2 id="model-h">Match weights of the trained model</h2>
      <p className="muted small">
        Each comparison level adds its weight (log₂ of m/u, in bits) to a pair's match weight: green pushes towards a match, red away from it. Prior
        probability {fmtNum(m.prior, 6)}
        {typeof m.prior_weight === 'number' ? ` (${fmtNum(m.prior_weight, 2)} bits)` : ''}.
      </p>
      <WeightBars bars={bars} />
      <DataTable
        rows={bars.map((b) => ({ level: b.label, weight: fmtNum(b.weight, 2), m: fmtNum(b.m, 4), u: fmtNum(b.u, 6) }))}
        columns={['level', 'weight', 'm', 'u']}
        testid="model-weights"
      />
    </section>
  );
}

function WeightBars({ bars }: { bars: { label: string; weight: number; m?: number | null; u?: number | null }[] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const key = JSON.stringify(bars);
  useEffect(() => {
    if (!ref.current) return;
    const chart = new Chart(ref.current, {
      type: 'bar',
      data: {
        labels: bars.map((b) => b.label),
        datasets: [
          {
            label: 'weight (bits)',
            data: bars.map((b) => b.weight),
            backgroundColor: bars.map((b) => (b.weight >= 0 ? '#22c55e' : '#ef4444')),
          },
        ],
      },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              afterLabel: (ctx) => {
                const b = bars[ctx.dataIndex];
                return `m ${fmtNum(b.m, 4)}, u ${fmtNum(b.u, 6)}`;
              },
            },
          },
        },
      },
    });
    return () => chart.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return (
    <div className="chart" style={{ height: Math.max(160, 22 * bars.length) }}>
      <canvas ref={ref} role="img" aria-label={`match weights: ${bars.map((b) => `${b.label} ${fmtNum(b.weight, 2)}`).join('; ')}`} data-testid="model-chart" />
    </div>
  );
}

interface EvalScore {
  precision: number;
  recall: number;
  f1: number;
}
interface EvaluationJson {
  pairwise: EvalScore & { tp: number; fp: number; fn: number };
  bcubed: EvalScore;
  clusters: EvalScore & { exact: number; predicted: number; true: number };
  records: number;
  records_not_in_truth: number;
  truth_without_profile: number;
  evaluated_at?: string;
  largest_clusters: Row[];
  false_merges: { customer_id: number; records: number; true_entities: number; false_pairs: number; entity_a: string; entity_b: string; chain: Row[]; joining_link: number | null; explanation: PairExplain | null }[];
  misses: { entity: string; records: number; profiles: number; missed_pairs: number; a: string; b: string; explanation: PairExplain | null }[];
}

/** The last evaluation against a known truth (cdp unify evaluate, POST /api/v1/unification/evaluate), and a form to run one. */
function Evaluation() {
  const last = useLoad(() => orNull(api.get<EvaluationJson>('unification/evaluation')), []);
  const [truth, setTruth] = useState('');
  const run = useAction();
  const e = last.data;
  return (
    <section className="card" aria-labelledby="eval-h">
      <h2 id="eval-h">Evaluation against a known truth</h2>
      <ErrorBox error={last.error} />
      {e ? (
        <div data-testid="evaluation">
          <p className="muted small">
            {fmtNum(e.records, 0)} records evaluated{e.evaluated_at ? ` at ${e.evaluated_at}` : ''}; {fmtNum(e.records_not_in_truth, 0)} profiled records not in the truth.
          </p>
          <DataTable
            rows={[
              { measure: 'pairwise', precision: fmtNum(e.pairwise.precision, 4), recall: fmtNum(e.pairwise.recall, 4), F1: fmtNum(e.pairwise.f1, 4) },
              { measure: 'B-cubed', precision: fmtNum(e.bcubed.precision, 4), recall: fmtNum(e.bcubed.recall, 4), F1: fmtNum(e.bcubed.f1, 4) },
              { measure: 'exact clusters', precision: fmtNum(e.clusters.precision, 4), recall: fmtNum(e.clusters.recall, 4), F1: fmtNum(e.clusters.f1, 4) },
            ]}
            columns={['measure', 'precision', 'recall', 'F1']}
            testid="evaluation-scores"
          />
          <p>
            Pairs: {fmtNum(e.pairwise.tp, 0)} right, {fmtNum(e.pairwise.fp, 0)} false merges, {fmtNum(e.pairwise.fn, 0)} missed. Profiles: {fmtNum(e.clusters.predicted, 0)} predicted,{' '}
            {fmtNum(e.clusters.true, 0)} true, {fmtNum(e.clusters.exact, 0)} exact.
          </p>
          <h3>Largest profiles</h3>
          <DataTable rows={e.largest_clusters} columns={['customer_id', 'records', 'true_entities', 'false_pairs']} />
          <h3>Worst false merges</h3>
          {e.false_merges.length ? (
            e.false_merges.map((f, i) => (
              <div key={i} className="rule-explain">
                <p>
                  CustomerId {f.customer_id}: {f.records} records of {f.true_entities} entities ({f.false_pairs} false pairs); {f.entity_a} joined to {f.entity_b}
                </p>
                <DataTable rows={f.chain.map((l, j) => ({ ...l, joining: j === f.joining_link ? '★' : '' }))} columns={['joining', 'a', 'b', 'rule', 'score', 'entity_a', 'entity_b']} />
                {f.explanation ? <PairView p={f.explanation} /> : null}
              </div>
            ))
          ) : (
            <p className="muted">None.</p>
          )}
          <h3>Worst misses</h3>
          {e.misses.length ? (
            e.misses.map((m, i) => (
              <div key={i} className="rule-explain">
                <p>
                  {m.entity}: {m.records} records in {m.profiles} profiles ({m.missed_pairs} missed pairs)
                </p>
                {m.explanation ? <PairView p={m.explanation} /> : <p>{m.a} vs {m.b}</p>}
              </div>
            ))
          ) : (
            <p className="muted">None.</p>
          )}
        </div>
      ) : !last.loading ? (
        <p className="muted">No evaluation has been run. Paste a truth (CSV with the columns source, key, entity) or run <code>cdp unify evaluate --truth FILE</code>.</p>
      ) : null}
      <LabeledTextArea label="Truth (CSV: source,key,entity)" value={truth} onChange={setTruth} rows={4} />
      <ErrorBox error={run.error} title="Evaluate" />
      <button
        type="button"
        disabled={run.busy || !truth.trim()}
        onClick={() =>
          run.run(async () => {
            await api.send('POST /api/v1/unification/evaluate', 'unification/evaluate', { truth });
            last.reload();
          })
        }
      >
        Evaluate
      </button>
    </section>
  );
}
