// Predictions: the models of the project's `predictions:` (transactional and
// subscription churn, customer lifetime value, product recommendations,
// imported scores, XGBoost models trained elsewhere). The list with each
// model's grade; a form to create one; a model's page with its data
// readiness (problems in plain language), "Train now" / "Score now", the
// grade with its baseline comparison, the evaluation's charts, and the
// per-customer scores, paged, linking to the customer cards.
import { FormEvent, ReactNode, useEffect, useState } from 'react';
import { api, enc, Field, PredictionBody } from '../api';
import { BarChart, ChartXY, DataTable, ErrorBox, LabeledInput, LabeledSelect, Loading, Notice, Pager, Tile } from '../components';
import { canEdit, useMe } from '../me';
import { fmtDuration, fmtNum, fmtPct, fmtTime, go, href, useAction, useId, useLoad } from '../util';
import { KeyValues } from './Customers';

export interface PredictionInfo {
  name: string;
  display_name?: string;
  kind: string;
  definition?: Record<string, unknown>;
  output_entity: string;
  trained: boolean;
  trained_at: string;
  grade: string;
  scored_customers: number;
  scored_at: string;
}
interface Readiness {
  ready: boolean;
  problems?: string[];
  profiles?: number;
  customers_with_transactions?: number;
  transactions?: number;
  first_day?: number | string;
  last_day?: number | string;
  history_days?: number;
  window_days?: number;
  transactions_per_customer?: Record<string, unknown>;
  missing?: Record<string, unknown>;
  [key: string]: unknown;
}
type Json = unknown;
interface Evaluation {
  name: string;
  kind: string;
  trained_at?: string;
  grade?: string;
  as_of?: number | string;
  cutoff?: number | string;
  metrics?: Record<string, Json>;
  baseline?: Record<string, Json>;
  charts?: Record<string, Json>;
  evaluation?: Record<string, Json>;
  current?: boolean;
  [key: string]: Json;
}
interface TrainReport {
  name: string;
  kind: string;
  trained_at: string;
  grade: string;
  readiness?: Readiness;
  evaluation?: Evaluation;
  duration_ms?: number;
  duration_micros?: number;
}
interface ScoreReport {
  name: string;
  output_entity: string;
  rows: number;
  customers: number;
  duration_ms?: number;
  duration_micros?: number;
}
interface ScoresPage {
  total: number;
  offset: number;
  limit: number;
  columns: string[];
  rows: unknown[][];
}

export const KINDS: { value: string; label: string }[] = [
  { value: 'transactional_churn', label: 'Transactional churn' },
  { value: 'subscription_churn', label: 'Subscription churn' },
  { value: 'clv', label: 'Customer lifetime value' },
  { value: 'product_recommendations', label: 'Product recommendations' },
  { value: 'imported_scores', label: 'Imported scores (computed elsewhere)' },
  { value: 'xgboost_model', label: 'XGBoost model (trained elsewhere)' },
];
export const kindLabel = (k: string) => KINDS.find((x) => x.value === k)?.label ?? k;

/** How each kind is graded (as the product grades it), for the grade's explanation. */
const GRADE_RULES: Record<string, string> = {
  transactional_churn:
    'A when overall accuracy is at least 50% and the churn-class accuracy is at least 10% above the baseline (the best recency rule); B when 0–10% above; C otherwise.',
  subscription_churn: 'Graded against the historical churn rate: A at least 10% better, B better, C not better.',
  clv: 'A when it finds at least 5% more high-value customers than the baseline (average monthly purchase × months × retention); B 0–5% more; C fewer.',
  product_recommendations:
    'A when Success@K (customers who bought at least one recommended product in the held-back period) is at least 10% above the most-purchased baseline; B above it; C otherwise.',
};

const PAGE = 20;

/** A run's duration (the service answers duration_ms; duration_micros accepted too). */
const runTime = (r: { duration_ms?: number; duration_micros?: number }) => fmtDuration(r.duration_micros ?? (r.duration_ms === undefined ? undefined : r.duration_ms * 1000));

/** A day as days since 1970-01-01 (or already a date text) as YYYY-MM-DD. */
function fmtDay(d: unknown): string {
  if (d === null || d === undefined || d === '') return '—';
  if (typeof d === 'number') return new Date(d * 86400000).toISOString().slice(0, 10);
  return String(d);
}

export function GradeBadge({ grade, testid }: { grade?: string; testid?: string }) {
  if (!grade) return <span className="badge neutral" data-testid={testid}>not graded</span>;
  const cls = grade === 'A' ? 'ok' : grade === 'B' ? 'warn' : 'bad';
  return (
    <span className={`badge ${cls}`} data-testid={testid} aria-label={`grade ${grade}`}>
      {grade}
    </span>
  );
}

export function PredictionsPage({ rest }: { rest: string[] }) {
  if (rest[0] === 'new') return <NewPrediction />;
  if (rest[0]) return <PredictionDetail name={decodeURIComponent(rest[0])} />;
  return <PredictionList />;
}

function PredictionList() {
  const list = useLoad(() => api.get<{ items: PredictionInfo[] }>('predictions'), []);
  const me = useMe();
  const items = list.data?.items ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Predictions</h1>
        {canEdit(me) ? (
          <a className="button primary" href={href('predictions', 'new')}>
            New prediction
          </a>
        ) : null}
      </div>
      <p className="muted">
        Models trained on the unified data: who is likely to churn and why, each customer's lifetime value, which products to recommend, and scores
        computed elsewhere. Each model is graded against a simple baseline on a held-back period, and every refresh scores every customer into the entity
        Prediction_<em>name</em>, usable in segments, measures, cards and exports.
      </p>
      <ErrorBox error={list.error} />
      {list.data ? (
        <>
          <div className="tiles">
            <Tile label="Predictions" value={fmtNum(items.length, 0)} testid="prediction-count" />
            <Tile label="Trained" value={fmtNum(items.filter((p) => p.trained).length, 0)} />
            <Tile label="Grade A" value={fmtNum(items.filter((p) => p.grade === 'A').length, 0)} />
          </div>
          {items.length === 0 ? (
            <Notice>No predictions yet. Create one here, or declare them in the project (predictions:).</Notice>
          ) : (
            <DataTable
              testid="predictions-table"
              rows={items.map((p) => ({
                name: p.name,
                kind: kindLabel(p.kind),
                grade: p.grade,
                'trained at': p.trained_at ? fmtTime(p.trained_at) : 'never',
                'scored customers': p.scored_customers,
                'scored at': p.scored_at ? fmtTime(p.scored_at) : 'never',
                output: p.output_entity,
              }))}
              columns={['name', 'kind', 'grade', 'trained at', 'scored customers', 'scored at', 'output']}
              render={{
                name: (r) => <a href={href('predictions', String(r.name))}>{String(r.name)}</a>,
                grade: (r) => <GradeBadge grade={String(r.grade ?? '')} />,
                output: (r) => <a href={href('data', String(r.output))}>{String(r.output)}</a>,
              }}
            />
          )}
        </>
      ) : list.loading ? (
        <Loading what="the predictions" />
      ) : null}
    </>
  );
}

// ---- the form ----

interface EntityItem {
  name: string;
  rows: number;
  fields: Field[];
}

function CheckList({ legend, options, value, onChange, testid }: { legend: string; options: string[]; value: string[]; onChange: (v: string[]) => void; testid?: string }) {
  const id = useId('chk');
  return (
    <fieldset data-testid={testid}>
      <legend>{legend}</legend>
      {options.length === 0 ? <p className="muted small">None available.</p> : null}
      <div className="row">
        {options.map((o, i) => (
          <div className="field check" key={o}>
            <input
              id={`${id}-${i}`}
              type="checkbox"
              checked={value.includes(o)}
              onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))}
            />
            <label htmlFor={`${id}-${i}`}>{o}</label>
          </div>
        ))}
      </div>
    </fieldset>
  );
}

function CheckBox({ label, checked, onChange }: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId('cb');
  return (
    <div className="field check">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

const splitList = (s: string) =>
  s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);
const num = (s: string) => (s.trim() === '' ? undefined : Number(s));

function NewPrediction() {
  const activities = useLoad(() => api.get<{ items: { name: string; type?: string; amount?: string }[] }>('activities'), []);
  const entities = useLoad(() => api.get<{ items: EntityItem[] }>('entities'), []);
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [kind, setKind] = useState('transactional_churn');
  const [acts, setActs] = useState<string[]>([]);
  const [productField, setProductField] = useState('ProductId');
  const [windowDays, setWindowDays] = useState('90');
  const [churnDays, setChurnDays] = useState('');
  const [threshold, setThreshold] = useState('0.5');
  const [profileFields, setProfileFields] = useState('');
  const [horizon, setHorizon] = useState('12');
  const [hvShare, setHvShare] = useState('80');
  const [hvTop, setHvTop] = useState('');
  const [count, setCount] = useState('10');
  const [repeat, setRepeat] = useState(false);
  const [lookback, setLookback] = useState('0');
  const [products, setProducts] = useState('');
  const [algorithm, setAlgorithm] = useState('als');
  const [subEntity, setSubEntity] = useState('');
  const [sub, setSub] = useState({ start: '', end: '', recurring: '', recurrence: '', amount: '' });
  const [renewal, setRenewal] = useState('30');
  const [entity, setEntity] = useState('');
  const [fields, setFields] = useState<string[]>([]);
  const [timeField, setTimeField] = useState('');
  const [modelFile, setModelFile] = useState('');
  const [features, setFeatures] = useState('');
  const [retrain, setRetrain] = useState('');
  const act = useAction();

  const transactional = ['transactional_churn', 'clv', 'product_recommendations'].includes(kind);
  const churn = kind === 'transactional_churn' || kind === 'subscription_churn';
  // Entities a model may read: the sources and derived entities, not the internal ones.
  const entityItems = (entities.data?.items ?? []).filter((e) => !e.name.startsWith('_'));
  const fieldsOf = (e: string) => entityItems.find((x) => x.name === e)?.fields.map((f) => f.name) ?? [];
  const customerFields = fieldsOf('Customer').filter((f) => f !== 'CustomerId');
  useEffect(() => setFields([]), [entity]);

  const body = (): PredictionBody => {
    const b: Record<string, unknown> = { name, kind };
    if (displayName) b.display_name = displayName;
    if (retrain) b.retrain = retrain;
    if (transactional || kind === 'subscription_churn') {
      if (acts.length) b.activities = acts;
    }
    if (transactional && productField && productField !== 'ProductId') b.product_field = productField;
    if (churn) {
      b.window_days = num(windowDays);
      if (kind === 'transactional_churn' && num(churnDays) !== undefined) b.churn_days = num(churnDays);
      if (num(threshold) !== undefined) b.threshold = num(threshold);
      const pf = splitList(profileFields);
      if (pf.length) b.profile_fields = pf;
    }
    if (kind === 'subscription_churn') {
      const s: Record<string, string> = { entity: subEntity };
      for (const [k, v] of Object.entries(sub)) if (v) s[k] = v;
      b.subscriptions = s;
      b.renewal_days = num(renewal);
    }
    if (kind === 'clv') {
      b.horizon_months = num(horizon);
      if (num(hvTop)) b.high_value = { top_percent: num(hvTop) };
      else if (num(hvShare) !== undefined) b.high_value = { share: (num(hvShare) as number) / 100 };
    }
    if (kind === 'product_recommendations') {
      b.count = num(count);
      b.repeat_purchases = repeat;
      b.lookback_days = num(lookback) ?? 0;
      b.algorithm = algorithm;
      const p = splitList(products);
      if (p.length) b.products = p;
    }
    if (kind === 'imported_scores') {
      b.entity = entity;
      b.fields = fields;
      if (timeField) b.time_field = timeField;
    }
    if (kind === 'xgboost_model') {
      b.model_file = modelFile;
      b.features = splitList(features).map((f) => (f.includes('.') ? f : `Customer_Measure.${f}`));
    }
    return b as PredictionBody;
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      await api.send('POST /api/v1/predictions', 'predictions', body());
      go('predictions', name);
    });
  };
  const activityNames = (activities.data?.items ?? []).map((a) => a.name);
  return (
    <>
      <div className="page-head">
        <h1>New prediction</h1>
        <a className="button" href={href('predictions')}>
          All predictions
        </a>
      </div>
      <ErrorBox error={activities.error ?? entities.error} />
      <form className="form narrow-form" onSubmit={submit} aria-label="New prediction">
        <LabeledInput label="Name (output entity Prediction_name)" value={name} onChange={setName} required placeholder="e.g. Churn90" />
        <LabeledInput label="Display name" value={displayName} onChange={setDisplayName} />
        <LabeledSelect label="Kind" value={kind} onChange={setKind} options={KINDS} />
        {transactional || kind === 'subscription_churn' ? (
          activities.data ? (
            <CheckList
              legend={kind === 'subscription_churn' ? 'Activities counted as features (optional)' : 'Transaction activities (purchases)'}
              options={activityNames}
              value={acts}
              onChange={setActs}
              testid="prediction-activities"
            />
          ) : (
            <Loading what="the activities" />
          )
        ) : null}
        {transactional ? <LabeledInput label="Product field of the transactions" value={productField} onChange={setProductField} /> : null}
        {churn ? (
          <fieldset>
            <legend>Churn</legend>
            <div className="row">
              <LabeledInput label="Prediction window (days)" type="number" value={windowDays} onChange={setWindowDays} />
              {kind === 'transactional_churn' ? (
                <LabeledInput label="Churn after days without a purchase" type="number" value={churnDays} onChange={setChurnDays} placeholder="= window" />
              ) : null}
              <LabeledInput label="Churn threshold (0–1)" type="number" value={threshold} onChange={setThreshold} />
            </div>
            <LabeledInput label="Profile fields as features (comma-separated)" value={profileFields} onChange={setProfileFields} list="customer-fields" />
            <datalist id="customer-fields">
              {customerFields.map((f) => (
                <option key={f} value={f} />
              ))}
            </datalist>
          </fieldset>
        ) : null}
        {kind === 'subscription_churn' ? (
          <fieldset>
            <legend>Subscriptions</legend>
            <LabeledSelect label="Subscription entity" value={subEntity} onChange={setSubEntity} placeholder="Choose an entity" options={entityItems.map((x) => x.name)} />
            <div className="row">
              {(['start', 'end', 'recurring', 'recurrence', 'amount'] as const).map((k) => (
                <LabeledSelect
                  key={k}
                  label={`${k[0].toUpperCase()}${k.slice(1)} field${k === 'start' || k === 'end' ? '' : ' (optional)'}`}
                  value={sub[k]}
                  onChange={(v) => setSub({ ...sub, [k]: v })}
                  placeholder="—"
                  options={fieldsOf(subEntity)}
                />
              ))}
            </div>
            <LabeledInput label="Renewal grace (days)" type="number" value={renewal} onChange={setRenewal} />
          </fieldset>
        ) : null}
        {kind === 'clv' ? (
          <fieldset>
            <legend>Lifetime value</legend>
            <div className="row">
              <LabeledInput label="Horizon (months)" type="number" value={horizon} onChange={setHorizon} />
              <LabeledInput label="High value: share of predicted value (%)" type="number" value={hvShare} onChange={setHvShare} />
              <LabeledInput label="or the top percent of customers" type="number" value={hvTop} onChange={setHvTop} placeholder="e.g. 20" />
            </div>
          </fieldset>
        ) : null}
        {kind === 'product_recommendations' ? (
          <fieldset>
            <legend>Recommendations</legend>
            <div className="row">
              <LabeledInput label="Products per customer" type="number" value={count} onChange={setCount} />
              <LabeledInput label="Look-back (days, 0 = all history)" type="number" value={lookback} onChange={setLookback} />
              <LabeledSelect
                label="Algorithm"
                value={algorithm}
                onChange={setAlgorithm}
                options={[
                  { value: 'als', label: 'ALS (implicit feedback)' },
                  { value: 'item_knn', label: 'Item-kNN (similar products)' },
                  { value: 'popular', label: 'Most purchased (baseline)' },
                ]}
              />
              <CheckBox label="Recommend products bought before" checked={repeat} onChange={setRepeat} />
            </div>
            <LabeledInput label="Only these products (comma-separated, empty = all)" value={products} onChange={setProducts} />
          </fieldset>
        ) : null}
        {kind === 'imported_scores' ? (
          <fieldset>
            <legend>Imported scores</legend>
            <LabeledSelect label="Entity with the scores" value={entity} onChange={setEntity} placeholder="Choose an entity" options={entityItems.map((x) => x.name)} />
            {entity ? <CheckList legend="Fields to copy" options={fieldsOf(entity)} value={fields} onChange={setFields} /> : null}
            <LabeledSelect label="Time field (latest row wins; optional)" value={timeField} onChange={setTimeField} placeholder="—" options={fieldsOf(entity)} />
          </fieldset>
        ) : null}
        {kind === 'xgboost_model' ? (
          <fieldset>
            <legend>XGBoost model</legend>
            <LabeledInput label="Model file (JSON, relative to the project file)" value={modelFile} onChange={setModelFile} />
            <LabeledInput
              label="Features in the model's order (Customer.Field or measure names, comma-separated)"
              value={features}
              onChange={setFeatures}
            />
          </fieldset>
        ) : null}
        <LabeledInput label="Retrain schedule (cron, optional)" value={retrain} onChange={setRetrain} placeholder="e.g. 0 3 1 * *" />
        <ErrorBox error={act.error} title="Save" />
        <div className="row">
          <button type="submit" className="primary" disabled={act.busy || !name}>
            Create prediction
          </button>
        </div>
      </form>
    </>
  );
}

// ---- a prediction's page ----

function PredictionDetail({ name }: { name: string }) {
  const me = useMe();
  const info = useLoad(() => api.get<PredictionInfo>(`predictions/${enc(name)}`), [name]);
  const readiness = useLoad(() => api.get<Readiness>(`predictions/${enc(name)}/readiness`), [name]);
  const trained = !!info.data?.trained;
  const evaluation = useLoad(
    () => (trained ? api.get<Evaluation>(`predictions/${enc(name)}/evaluation`) : Promise.resolve(undefined)),
    [name, trained, info.data?.trained_at],
  );
  const [offset, setOffset] = useState(0);
  const scores = useLoad(
    () => (info.data && info.data.scored_at ? api.get<ScoresPage>(`predictions/${enc(name)}/scores`, { offset, limit: PAGE }) : Promise.resolve(undefined)),
    [name, offset, info.data?.scored_at],
  );
  const act = useAction();
  const [notice, setNotice] = useState<ReactNode>();
  const train = () =>
    act.run(async () => {
      setNotice(undefined);
      const r = await api.send<TrainReport>('POST /api/v1/predictions/{name}/train', `predictions/${enc(name)}/train`, {});
      setNotice(
        <>
          Trained in {runTime(r)}
          {r.grade ? (
            <>
              {' '}
              — grade <GradeBadge grade={r.grade} />
            </>
          ) : null}
          ; every customer scored.
        </>,
      );
      setOffset(0);
      info.reload();
      readiness.reload();
    });
  const score = () =>
    act.run(async () => {
      setNotice(undefined);
      const r = await api.send<ScoreReport>('POST /api/v1/predictions/{name}/score', `predictions/${enc(name)}/score`, {});
      setNotice(
        <>
          Scored {fmtNum(r.customers, 0)} customer(s) ({fmtNum(r.rows, 0)} row(s) in {r.output_entity}) in {runTime(r)}.
        </>,
      );
      info.reload();
    });
  const remove = () =>
    act.run(async () => {
      if (!window.confirm(`Delete the prediction ${name} and its trained model?`)) return;
      await api.del(`predictions/${enc(name)}`);
      go('predictions');
    });
  const p = info.data;
  const edit = canEdit(me);
  return (
    <>
      <div className="page-head">
        <h1>Prediction {p?.display_name || name}</h1>
        <div className="actions">
          <button type="button" className="primary" disabled={act.busy || !p || !edit} onClick={train} title={edit ? undefined : 'Needs the contributor role'}>
            {act.busy ? 'Working…' : 'Train now'}
          </button>
          <button type="button" disabled={act.busy || !p || !p.trained || !edit} onClick={score} title={edit ? undefined : 'Needs the contributor role'}>
            Score now
          </button>
          {edit ? (
            <button type="button" className="danger" disabled={act.busy || !p} onClick={remove}>
              Delete
            </button>
          ) : null}
          <a className="button" href={href('predictions')}>
            All predictions
          </a>
        </div>
      </div>
      <ErrorBox error={info.error} />
      <ErrorBox error={act.error} title="Run" />
      {notice ? (
        <div className="notice" role="status" data-testid="prediction-run-result">
          {notice}
        </div>
      ) : null}
      {act.busy ? <Loading what="— training reads every transaction and may take a while" /> : null}
      {p ? (
        <div className="tiles">
          <Tile label="Kind" value={kindLabel(p.kind)} />
          <Tile label="Grade" value={<GradeBadge grade={p.grade} testid="prediction-grade" />} />
          <Tile label="Trained" value={p.trained_at ? fmtTime(p.trained_at) : 'never'} />
          <Tile label="Scored customers" value={fmtNum(p.scored_customers, 0)} testid="prediction-scored" />
          <Tile label="Output entity" value={<a href={href('data', p.output_entity)}>{p.output_entity}</a>} />
        </div>
      ) : info.loading ? (
        <Loading what="the prediction" />
      ) : null}
      <ReadinessView readiness={readiness} />
      {p?.trained ? (
        <section className="card" aria-labelledby="eval-h" data-testid="prediction-evaluation">
          <h2 id="eval-h">Evaluation on the held-back period</h2>
          <ErrorBox error={evaluation.error} />
          {evaluation.data ? <EvaluationView e={evaluation.data} /> : evaluation.loading ? <Loading what="the evaluation" /> : null}
        </section>
      ) : p ? (
        <Notice>Not trained yet: check the readiness above, then choose "Train now".</Notice>
      ) : null}
      <section className="card" aria-labelledby="scores-h">
        <h2 id="scores-h">Scores per customer</h2>
        <ErrorBox error={scores.error} />
        {scores.data ? (
          <ScoresTable page={scores.data} onOffset={setOffset} />
        ) : scores.loading ? (
          <Loading what="the scores" />
        ) : (
          <p className="muted">Not scored yet.</p>
        )}
      </section>
      {p?.definition ? (
        <details>
          <summary>Definition</summary>
          <pre className="code">{JSON.stringify(p.definition, null, 2)}</pre>
        </details>
      ) : null}
    </>
  );
}

function ReadinessView({ readiness }: { readiness: { data?: Readiness; error?: Error; loading: boolean } }) {
  const r = readiness.data;
  return (
    <section className="card" aria-labelledby="ready-h" data-testid="prediction-readiness">
      <h2 id="ready-h">Data readiness</h2>
      <ErrorBox error={readiness.error} />
      {r ? (
        <>
          <p data-testid="readiness-verdict">
            {r.ready ? <span className="badge ok">ready</span> : <span className="badge bad">not ready</span>}{' '}
            {r.ready && !r.problems?.length ? 'The data supports training this model.' : null}
          </p>
          {r.problems?.length ? (
            <div className="problems">
              <h3>{r.ready ? 'Warnings' : 'Problems to fix before training'}</h3>
              <ul data-testid="readiness-problems">
                {r.problems.map((x, i) => (
                  <li key={i}>{x}</li>
                ))}
              </ul>
            </div>
          ) : null}
          <div className="tiles">
            {r.profiles !== undefined ? <Tile label="Profiles" value={fmtNum(r.profiles, 0)} /> : null}
            {r.customers_with_transactions !== undefined ? <Tile label="Customers with transactions" value={fmtNum(r.customers_with_transactions, 0)} /> : null}
            {r.transactions !== undefined ? <Tile label="Transactions" value={fmtNum(r.transactions, 0)} /> : null}
            {r.history_days !== undefined ? (
              <Tile label="History" value={`${fmtNum(r.history_days, 0)} days`}>
                <div className="muted small">
                  {fmtDay(r.first_day)} – {fmtDay(r.last_day)}
                  {r.window_days ? ` · window ${r.window_days} days` : ''}
                </div>
              </Tile>
            ) : null}
          </div>
          <div className="grid2">
            {r.transactions_per_customer ? (
              <div>
                <h3>Transactions per customer</h3>
                <KeyValues obj={r.transactions_per_customer} />
              </div>
            ) : null}
            {r.missing ? (
              <div>
                <h3>Missing values</h3>
                <KeyValues obj={r.missing} />
              </div>
            ) : null}
          </div>
        </>
      ) : readiness.loading ? (
        <Loading what="the readiness report" />
      ) : null}
    </section>
  );
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Shares (0..1) as percentages, counts as counts. */
function fmtMetric(key: string, v: unknown): string {
  if (!isNum(v)) return v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (Number.isInteger(v)) return fmtNum(v, 0);
  if (v >= 0 && v <= 1 && /accuracy|rate|share|success|precision|recall|retention/i.test(key)) return fmtPct(v);
  return fmtNum(v, 4);
}
const label = (key: string) => key.replace(/_at_k$/, '@K').replace(/_/g, ' ');

/**
 * The figures of an evaluation beside the baseline's. The model's figures are
 * its numbers (the documented `metrics`, else the numbers of the model's
 * `evaluation`); the baseline's come from `baseline` (an object with the same
 * keys) or from `baseline_X` beside `X` / `model_X`.
 */
export function figuresOf(e: Evaluation) {
  const ev = (e.evaluation && typeof e.evaluation === 'object' ? e.evaluation : e) as Record<string, unknown>;
  const base = (e.baseline && typeof e.baseline === 'object' ? e.baseline : ev.baseline && typeof ev.baseline === 'object' ? ev.baseline : {}) as Record<string, unknown>;
  const source = (e.metrics && typeof e.metrics === 'object' ? e.metrics : ev) as Record<string, unknown>;
  const skip = /(_day|^as_of|cutoff|^k)$|^baseline_|^horizon_days$|^months$/;
  const rows: { figure: string; model: number; baseline?: number }[] = [];
  for (const [k, v] of Object.entries(source)) {
    if (!isNum(v) || skip.test(k)) continue;
    const name = k.startsWith('model_') ? k.slice(6) : k;
    const b = base[k] ?? ev[`baseline_${name}`] ?? ev[`baseline_${k}`];
    rows.push({ figure: name, model: v, baseline: isNum(b) ? b : undefined });
  }
  const texts: [string, string][] = [];
  if (typeof ev.baseline === 'string') texts.push(['baseline', ev.baseline]);
  if (typeof base.name === 'string') texts.push(['baseline', base.name]);
  for (const k of ['algorithm', 'fit_cutoff', 'evaluation_cutoff', 'cutoff', 'as_of']) {
    const v = ev[k] ?? e[k];
    if (typeof v === 'string' && v) texts.push([k.replace(/_/g, ' '), v]);
  }
  const charts: Record<string, unknown> =
    e.charts && typeof e.charts === 'object' ? (e.charts as Record<string, unknown>) : Object.fromEntries(Object.entries(ev).filter(([, v]) => isObjArray(v)));
  const reason = typeof ev.grade_reason === 'string' ? ev.grade_reason : typeof e.grade_reason === 'string' ? e.grade_reason : '';
  return { rows, texts, charts, reason, model: ev.model && typeof ev.model === 'object' ? (ev.model as Record<string, unknown>) : undefined };
}

function EvaluationView({ e }: { e: Evaluation }) {
  const f = figuresOf(e);
  const rule = GRADE_RULES[e.kind];
  const paired = f.rows.filter((r) => r.baseline !== undefined);
  return (
    <>
      <div className="tiles">
        <Tile label="Grade" value={<GradeBadge grade={e.grade ?? (e.evaluation?.grade as string | undefined)} testid="evaluation-grade" />}>
          {f.reason ? (
            <div className="small" data-testid="evaluation-reason">
              {f.reason}
            </div>
          ) : null}
          {rule ? <div className="muted small">{rule}</div> : null}
        </Tile>
        {f.texts.map(([k, v], i) => (
          <Tile key={i} label={k[0].toUpperCase() + k.slice(1)} value={<span className="small">{v}</span>} />
        ))}
      </div>
      {e.current === false ? <Notice>The definition changed since this model was trained: train it again.</Notice> : null}
      <div className="grid2">
        <DataTable
          testid="evaluation-metrics"
          rows={f.rows.map((r) => ({
            figure: label(r.figure),
            model: fmtMetric(r.figure, r.model),
            baseline: r.baseline === undefined ? '' : fmtMetric(r.figure, r.baseline),
            'model vs baseline': r.baseline !== undefined && r.baseline !== 0 ? `${r.model >= r.baseline ? '+' : ''}${((r.model / r.baseline - 1) * 100).toFixed(1)}%` : '',
          }))}
          columns={['figure', 'model', 'baseline', 'model vs baseline']}
          empty="No figures."
        />
        {paired.length ? (
          <figure className="card" data-testid="prediction-chart-baseline" style={{ margin: 0 }}>
            <figcaption>
              <h3>Model vs baseline</h3>
            </figcaption>
            <ChartXY
              kind="bar"
              label="Model vs baseline"
              series={[
                { label: 'model', points: paired.map((r) => ({ x: label(r.figure), y: r.model })) },
                { label: 'baseline', reference: true, points: paired.map((r) => ({ x: label(r.figure), y: r.baseline as number })) },
              ]}
            />
          </figure>
        ) : null}
      </div>
      {f.model ? (
        <details>
          <summary>Fitted parameters</summary>
          <KeyValues obj={f.model} />
        </details>
      ) : null}
      <Charts charts={f.charts} kind={e.kind} />
    </>
  );
}

type Obj = Record<string, unknown>;
const isObjArray = (v: unknown): v is Obj[] => Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === 'object' && !Array.isArray(x));
const has = (o: Obj[], ...keys: string[]) => keys.every((k) => k in o[0]);
const titleOf = (key: string) => key.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** The evaluation's charts: the known shapes drawn as such, any other table of numbers as bars. */
function Charts({ charts, kind }: { charts: Record<string, unknown>; kind: string }) {
  const entries = Object.entries(charts).filter(([, v]) => (Array.isArray(v) ? v.length > 0 : v && typeof v === 'object'));
  if (!entries.length) return <p className="muted">No charts in this evaluation.</p>;
  const positive = kind.includes('churn') ? 'churned' : 'positive';
  const negative = kind.includes('churn') ? 'stayed' : 'negative';
  return (
    <div className="grid2">
      {entries.map(([key, v]) => {
        let chart: ReactNode = null;
        let title = titleOf(key);
        if (isObjArray(v) && has(v, 'lo', 'hi', 'positives', 'negatives')) {
          title = 'Score histogram';
          const x = v.map((b) => `${fmtNum(b.lo, 2)}–${fmtNum(b.hi, 2)}`);
          chart = (
            <ChartXY
              kind="bar"
              stacked
              label={title}
              xTitle="score"
              yTitle="customers"
              series={[
                { label: positive, points: v.map((b, i) => ({ x: x[i], y: Number(b.positives) })) },
                { label: negative, points: v.map((b, i) => ({ x: x[i], y: Number(b.negatives) })) },
              ]}
            />
          );
        } else if (isObjArray(v) && has(v, 'share_targeted', 'share_of_positives')) {
          title = 'Lift and gain';
          chart = (
            <ChartXY
              kind="line"
              label={`${title} (lift at each share: ${v.map((p) => `${fmtPct(p.share_targeted)} ${fmtNum(p.lift, 2)}`).join(', ')})`}
              xTitle="share of customers targeted (highest scores first)"
              yTitle={`share of the ${positive} found`}
              series={[
                { label: 'model (cumulative gain)', points: [{ x: 0, y: 0 }, ...v.map((p) => ({ x: Number(p.share_targeted), y: Number(p.share_of_positives) }))] },
                { label: 'random', reference: true, points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
              ]}
            />
          );
        } else if (isObjArray(v) && has(v, 'mean_predicted', 'observed_rate')) {
          title = 'Calibration';
          chart = (
            <ChartXY
              kind="line"
              label={title}
              xTitle="mean predicted probability"
              yTitle="observed rate"
              series={[
                { label: 'model', points: v.map((b) => ({ x: Number(b.mean_predicted), y: Number(b.observed_rate) })) },
                { label: 'perfectly calibrated', reference: true, points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
              ]}
            />
          );
        } else if (isObjArray(v) && has(v, 'feature') && Object.keys(v[0]).some((k) => k !== 'feature' && isNum(v[0][k]))) {
          const measure = 'importance' in v[0] ? 'importance' : Object.keys(v[0]).find((k) => k !== 'feature' && isNum(v[0][k])) ?? 'importance';
          title = `Factor importance (${measure.replace(/_/g, ' ')})`;
          const top = [...v].sort((a, b) => Number(b[measure]) - Number(a[measure])).slice(0, 15);
          chart = <BarChart horizontal label={title} labels={top.map((f) => String(f.feature))} values={top.map((f) => Number(f[measure]))} height={Math.max(160, 24 * top.length)} />;
        } else if (isObjArray(v) && has(v, 'decile', 'mean_predicted', 'mean_actual')) {
          title = 'Predicted vs actual value by decile';
          chart = (
            <ChartXY
              kind="bar"
              label={title}
              xTitle="decile of predicted value (1 = highest)"
              yTitle="mean value per customer"
              series={[
                { label: 'predicted', points: v.map((d) => ({ x: String(d.decile), y: Number(d.mean_predicted) })) },
                { label: 'actual', points: v.map((d) => ({ x: String(d.decile), y: Number(d.mean_actual) })) },
              ]}
            />
          );
        } else if (isObjArray(v) && has(v, 'units', 'forecast_cumulative', 'actual_cumulative')) {
          title = 'Hold-out: cumulative transactions, forecast vs actual';
          chart = (
            <ChartXY
              kind="line"
              label={title}
              xTitle="time units after the cut-off"
              yTitle="cumulative transactions"
              series={[
                { label: 'forecast', points: v.map((p) => ({ x: Number(p.units), y: Number(p.forecast_cumulative) })) },
                { label: 'actual', points: v.map((p) => ({ x: Number(p.units), y: Number(p.actual_cumulative) })) },
              ]}
            />
          );
        } else if (isObjArray(v)) {
          // A table of figures: the first text (or first) column on x, every numeric column a series.
          const cols = Object.keys(v[0]);
          const xKey = cols.find((c) => typeof v[0][c] === 'string') ?? cols[0];
          const ys = cols.filter((c) => c !== xKey && v.every((r) => isNum(r[c])));
          if (ys.length) {
            chart = (
              <ChartXY
                kind="bar"
                label={title}
                xTitle={xKey}
                series={ys.map((y) => ({ label: y, reference: /baseline|popular|random/i.test(y), points: v.map((r) => ({ x: String(r[xKey]), y: Number(r[y]) })) }))}
              />
            );
          }
        } else if (Array.isArray(v) && v.every(isNum)) {
          chart = <BarChart label={title} labels={v.map((_, i) => String(i + 1))} values={v as number[]} />;
        } else if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isNum)) {
          const o = v as Record<string, number>;
          chart = <BarChart label={title} labels={Object.keys(o)} values={Object.values(o)} />;
        }
        if (!chart) return null;
        return (
          <figure className="card" key={key} data-testid={`prediction-chart-${key}`} style={{ margin: 0 }}>
            <figcaption>
              <h3>{title}</h3>
            </figcaption>
            {chart}
          </figure>
        );
      })}
    </div>
  );
}

function ScoresTable({ page, onOffset }: { page: ScoresPage; onOffset: (o: number) => void }) {
  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.rows.length;
  const rows = page.rows.map((r) => Object.fromEntries(page.columns.map((c, i) => [c, r[i]])));
  return (
    <>
      <p className="muted" data-testid="scores-range">
        {page.total === 0 ? 'No scores.' : `Customers ${fmtNum(first, 0)}–${fmtNum(last, 0)} of ${fmtNum(page.total, 0)}`}
      </p>
      <DataTable
        testid="prediction-scores"
        rows={rows}
        columns={page.columns}
        render={{
          CustomerId: (r) => (
            <a href={href('customers', String(r.CustomerId))} aria-label={`Customer ${String(r.CustomerId)}`}>
              {String(r.CustomerId)}
            </a>
          ),
        }}
      />
      <Pager
        label="Scores"
        hasPrev={page.offset > 0}
        hasNext={last < page.total}
        onPrev={() => onOffset(Math.max(0, page.offset - page.limit))}
        onNext={() => onOffset(page.offset + page.limit)}
      />
    </>
  );
}

// ---- the customer card's section ----

export interface CardPrediction {
  name: string;
  display_name?: string;
  kind: string;
  values?: Record<string, unknown>;
  products?: { ProductId: unknown; Score?: number; Reason?: string; [k: string]: unknown }[];
}

function Factors({ text }: { text: unknown }) {
  const items = Array.isArray(text)
    ? text.map((x) => (typeof x === 'object' ? Object.values(x as Obj).join(' ') : String(x)))
    : String(text ?? '')
        .split(/;|\n/)
        .map((s) => s.trim())
        .filter(Boolean);
  if (!items.length) return null;
  return (
    <ol className="small" data-testid="card-top-factors">
      {items.map((f, i) => (
        <li key={i}>{f}</li>
      ))}
    </ol>
  );
}

/** The Predictions section of the customer card. */
export function CardPredictions({ predictions }: { predictions: CardPrediction[] }) {
  return (
    <section className="card" aria-labelledby="pred-h" data-testid="card-predictions">
      <h2 id="pred-h">Predictions</h2>
      {predictions.length === 0 ? <p className="muted">No predictions for this customer.</p> : null}
      {predictions.map((p) => {
        const v = p.values ?? {};
        const { TopFactors, ChurnScore, IsChurn, ...others } = v;
        // Factor1..N (and their impacts) are TopFactors' columns: shown once, in the list.
        const rest = Object.fromEntries(Object.entries(others).filter(([k]) => TopFactors === undefined || !/^Factor\d+(Impact)?$/.test(k)));
        return (
          <div key={p.name} data-testid={`card-prediction-${p.name}`}>
            <h3>
              <a href={href('predictions', p.name)}>{p.display_name || p.name}</a> <span className="muted small">{kindLabel(p.kind)}</span>
            </h3>
            {ChurnScore !== undefined ? (
              <p>
                Churn score <strong data-testid="card-churn-score">{fmtPct(ChurnScore)}</strong>{' '}
                {IsChurn !== undefined ? <span className={`badge ${IsChurn ? 'bad' : 'ok'}`}>{IsChurn ? 'likely to churn' : 'likely to stay'}</span> : null}
              </p>
            ) : null}
            {TopFactors !== undefined ? (
              <>
                <div className="muted small">Top factors</div>
                <Factors text={TopFactors} />
              </>
            ) : null}
            {Object.keys(rest).length ? <KeyValues obj={rest} /> : null}
            {p.products ? (
              <DataTable
                testid="card-recommendations"
                empty="No recommended products."
                rows={p.products.map((x, i) => ({ rank: i + 1, product: x.ProductId, score: x.Score, reason: x.Reason }))}
                columns={['rank', 'product', 'score', 'reason']}
              />
            ) : null}
          </div>
        );
      })}
    </section>
  );
}
