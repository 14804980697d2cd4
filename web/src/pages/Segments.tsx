import { FormEvent, useEffect, useMemo, useState } from 'react';
import { api, enc, Field, Page, Row, SegmentDefinition, SegmentSummary } from '../api';
import type { QuickSegment as QuickSegmentBody } from '../api';
import { DataTable, ErrorBox, LabeledInput, LabeledSelect, LineChart, Loading, StatusBadge, Tile } from '../components';
import { arity, defFromResponse, inputTypeFor, kindOf, loadOperators, opsFor, problemText, schemaOf, typedValue } from '../segmodel';
import { fmtNum, fmtTime, go, hashQuery, href, useAction, useDebounced, useId, useLoad } from '../util';
import { SegmentBuilder } from './SegmentBuilder';
import { FindSimilar, SegmentInsights } from './Insights';

export function SegmentsPage({ rest }: { rest: string[] }) {
  if (rest[0] === 'new') return <SegmentBuilder />;
  if (rest[0] === 'quick') return <QuickSegment from={hashQuery().get('from') === 'measure' ? 'measure' : 'profile'} />;
  if (rest[0] && rest[1] === 'edit') return <SegmentBuilder editName={rest[0]} />;
  if (rest[0] && rest[1] === 'similar') return <FindSimilar source={rest[0]} />;
  if (rest[0]) return <SegmentDetail name={rest[0]} tab={rest[1] === 'insights' ? 'insights' : 'overview'} />;
  return <SegmentList />;
}

function SegmentList() {
  const list = useLoad(() => api.get<Page<SegmentSummary>>('segments', { limit: 1000 }), []);
  const [view, setView] = useState<'table' | 'tiles'>('table');
  const items = list.data?.items ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Segments</h1>
        <div className="actions">
          <a className="button primary" href={href('segments', 'new')}>
            New blank segment
          </a>
          <a className="button" href={href('segments', 'quick') + '?from=profile'}>
            Create from profiles
          </a>
          <a className="button" href={href('segments', 'quick') + '?from=measure'}>
            Create from measures
          </a>
          <a className="button" href={href('insights', 'suggested')}>
            Suggested segments
          </a>
        </div>
      </div>
      <div className="tabs" role="group" aria-label="View">
        <button type="button" aria-pressed={view === 'table'} onClick={() => setView('table')}>
          Table
        </button>
        <button type="button" aria-pressed={view === 'tiles'} onClick={() => setView('tiles')}>
          Tiles
        </button>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? <Loading what="segments" /> : null}
      {view === 'tiles' ? (
        <div className="tiles">
          {items.map((s) => (
            <a key={s.name} className="tile seg-tile" href={href('segments', s.name)}>
              <div className="tile-label">{s.display_name || s.name}</div>
              <div className="tile-value">{fmtNum(s.members)}</div>
              <div>
                <StatusBadge status={s.status} /> <span className="muted small">{s.type}</span>
              </div>
            </a>
          ))}
        </div>
      ) : (
        <DataTable
          testid="segments-table"
          rows={items as unknown as Row[]}
          columns={['name', 'display_name', 'type', 'status', 'members', 'problems', 'updated_at']}
          empty="No segments yet."
          render={{
            name: (r) => <a href={href('segments', String(r.name))}>{String(r.name)}</a>,
            status: (r) => <StatusBadge status={String(r.status)} />,
            members: (r) => <span data-testid={`members-${r.name}`}>{fmtNum(r.members)}</span>,
            problems: (r) => {
              const p = (r.problems as unknown[]) ?? [];
              return p.length ? <span className="warn-text">{p.length} problem(s)</span> : '';
            },
            updated_at: (r) => fmtTime(r.updated_at),
          }}
        />
      )}
    </>
  );
}

/** Quick segment from one profile field or one measure ("Create from → Profiles / Measures"). */
function QuickSegment({ from }: { from: 'profile' | 'measure' }) {
  const entity = from === 'measure' ? 'Customer_Measure' : 'Customer';
  const fields = useLoad(() => schemaOf(entity), [entity]);
  const facets = useLoad(() => api.get<{ facets?: Record<string, { value: string; count: number }[]> }>('customers/search', { q: '', limit: 1 }).catch(() => ({ facets: {} as Record<string, { value: string; count: number }[]> })), []);
  const [field, setField] = useState('');
  const [op, setOp] = useState('');
  const [values, setValues] = useState<string[]>(['']);
  const [step, setStep] = useState<'define' | 'review'>('define');
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [isStatic, setStatic] = useState(false);
  const save = useAction();
  const listId = useId('vals');
  const nameId = useId('qname');
  const usable = (fields.data ?? []).filter((f: Field) => from === 'profile' || f.name !== 'CustomerId');
  const f = usable.find((x) => x.name === field);
  const operators = useLoad(() => loadOperators(), []);
  const kind = kindOf(operators.data, f?.type);
  const n = arity(operators.data, op);
  const typed = useMemo(() => (n === 0 ? [] : values.slice(0, n === 'many' ? undefined : n).flatMap((v) => (n === 'many' ? v.split(',') : [v])).map((v) => typedValue(operators.data, kind, op, v))), [values, n, kind, op, operators.data]);
  const definition = { name: name || 'QuickSegment', type: isStatic ? 'static' : 'dynamic', rules: [{ entity, conditions: [{ field, op, values: typed }] }] };
  const dkey = useDebounced(JSON.stringify(definition), 500);
  const [estimate, setEstimate] = useState<number>();
  useEffect(() => {
    if (!field || !op) {
      setEstimate(undefined);
      return;
    }
    let live = true;
    api.post<{ members?: number }>('segments/estimate', JSON.parse(dkey)).then(
      (e) => live && setEstimate(e.members ?? undefined),
      () => live && setEstimate(undefined),
    );
    return () => {
      live = false;
    };
  }, [dkey]); // eslint-disable-line react-hooks/exhaustive-deps

  const suggestions = facets.data?.facets?.[field] ?? [];
  const inputType = inputTypeFor(operators.data, kind, op);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (step === 'define') {
      setStep('review');
      return;
    }
    save.run(async () => {
      // The quick route takes one condition; a display name needs the full definition.
      if (displayName) await api.send('POST /api/v1/segments', 'segments', { ...definition, display_name: displayName } as SegmentDefinition);
      else await api.send('POST /api/v1/segments/quick', 'segments/quick', { name, entity, field, op: op as QuickSegmentBody['op'], values: typed as QuickSegmentBody['values'], static: isStatic });
      go('segments', name);
    });
  };
  return (
    <>
      <div className="page-head">
        <h1>Create from {from === 'measure' ? 'measures' : 'profiles'}</h1>
      </div>
      <form className="card narrow-form" onSubmit={submit}>
        <ErrorBox error={fields.error} />
        <fieldset disabled={step === 'review'}>
          <legend>Condition</legend>
          <LabeledSelect
            label={from === 'measure' ? 'Measure' : 'Field'}
            value={field}
            placeholder="Choose…"
            onChange={(v) => {
              setField(v);
              setOp('');
              setValues(['']);
            }}
            options={usable.map((x) => ({ value: x.name, label: `${x.name} (${x.type})` }))}
          />
          <LabeledSelect label="Operator" value={op} placeholder="Choose…" onChange={setOp} options={(field ? opsFor(operators.data, kind) : []).map((o) => ({ value: o.op, label: o.label }))} />
          {n === 1 || n === 'many' ? (
            <>
              <LabeledInput label={n === 'many' ? 'Values (comma-separated)' : 'Value'} type={n === 'many' ? 'text' : inputType} value={values[0]} onChange={(v) => setValues([v])} list={listId} />
              <datalist id={listId}>
                {suggestions.map((s) => (
                  <option key={s.value} value={s.value}>{`${s.value} (${s.count})`}</option>
                ))}
              </datalist>
            </>
          ) : null}
          {n === 2 ? (
            <div className="row">
              <LabeledInput label="From" type={inputType} value={values[0] ?? ''} onChange={(v) => setValues([v, values[1] ?? ''])} />
              <LabeledInput label="To" type={inputType} value={values[1] ?? ''} onChange={(v) => setValues([values[0] ?? '', v])} />
            </div>
          ) : null}
        </fieldset>
        <p aria-live="polite">
          Estimated members: <strong data-testid="quick-estimate">{estimate !== undefined ? fmtNum(estimate) : '—'}</strong>
        </p>
        {step === 'review' ? (
          <fieldset>
            <legend>Review</legend>
            <div className="field">
              <label htmlFor={nameId}>Output entity name</label>
              {/* The name rule is the server's (its 400 names the field and the rule). */}
              <input id={nameId} value={name} required onChange={(e) => setName(e.target.value)} />
            </div>
            <LabeledInput label="Display name" value={displayName} onChange={setDisplayName} />
            <div className="field check">
              <input id={nameId + '-static'} type="checkbox" checked={isStatic} onChange={(e) => setStatic(e.target.checked)} />
              <label htmlFor={nameId + '-static'}>Static (freeze members on save)</label>
            </div>
          </fieldset>
        ) : null}
        <ErrorBox error={save.error} title="Save" />
        <div className="row">
          {step === 'review' ? (
            <button type="button" onClick={() => setStep('define')}>
              Back
            </button>
          ) : null}
          <button type="submit" className="primary" disabled={!field || !op || save.busy}>
            {step === 'define' ? 'Review' : save.busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </>
  );
}

interface HistoryRow {
  run_id?: unknown;
  members: number;
  evaluated_at: string;
}
function asItems<T>(x: unknown, key?: string): T[] {
  if (Array.isArray(x)) return x as T[];
  const o = x as Record<string, unknown>;
  if (!o) return [];
  if (key && Array.isArray(o[key])) return o[key] as T[];
  if (Array.isArray(o.items)) return o.items as T[];
  return [];
}

function SegmentDetail({ name, tab }: { name: string; tab: 'overview' | 'insights' }) {
  const seg = useLoad(() => api.get<Record<string, unknown>>(`segments/${enc(name)}`), [name]);
  const history = useLoad(() => api.get<unknown>(`segments/${enc(name)}/history`), [name]);
  const inspect = useLoad(() => api.get<unknown>(`segments/${enc(name)}/inspect`), [name]);
  const members = useLoad(() => api.get<Page<Row>>(`segments/${enc(name)}/members`, { limit: 100 }), [name]);
  const act = useAction();
  const [msg, setMsg] = useState<string>();
  const reloadAll = () => {
    seg.reload();
    history.reload();
    inspect.reload();
    members.reload();
  };
  const s = seg.data as (SegmentSummary & Record<string, unknown>) | undefined;
  // A saved dynamic segment is evaluated by a refresh the server starts: poll until it is served.
  const [polls, setPolls] = useState(0);
  const pending = !!s && s.status === 'active' && (s.members === null || s.members === undefined);
  useEffect(() => {
    if (!pending || polls > 80) return;
    const t = setTimeout(() => {
      setPolls((p) => p + 1);
      reloadAll();
    }, 1500);
    return () => clearTimeout(t);
  }, [pending, polls]); // eslint-disable-line react-hooks/exhaustive-deps
  const hist = asItems<HistoryRow>(history.data, 'history');
  const ruleCounts = asItems<Record<string, unknown>>(inspect.data, 'rules');
  const problems = (s?.problems as unknown[]) ?? [];
  const def = s ? defFromResponse(s) : undefined;

  return (
    <>
      <div className="page-head">
        <h1>
          {s?.display_name || name} {s?.display_name ? <span className="muted">({name})</span> : null}
        </h1>
        <div className="actions">
          <button
            type="button"
            disabled={act.busy}
            onClick={() =>
              act.run(async () => {
                await api.post(`segments/${enc(name)}/run`, {});
                setMsg('Segment run started; counts update when it finishes.');
                setTimeout(reloadAll, 1500);
              })
            }
          >
            Run now
          </button>
          <a className="button" href={href('segments', name, 'edit')}>
            Edit
          </a>
          <button type="button" disabled={act.busy} onClick={() => act.run(() => api.download(`segments/${enc(name)}/export`, { format: 'csv' }, `${name}.csv`))}>
            Download members (CSV)
          </button>
          <a className="button" href={href('exports', 'new', name)}>
            Export to a connection
          </a>
          <button
            type="button"
            className="danger"
            disabled={act.busy}
            onClick={() => {
              if (!window.confirm(`Delete segment ${name}?`)) return;
              act.run(async () => {
                await api.del(`segments/${enc(name)}`);
                go('segments');
              });
            }}
          >
            Delete
          </button>
        </div>
      </div>
      <ErrorBox error={act.error} />
      {msg ? (
        <div className="notice" role="status">
          {msg}
        </div>
      ) : null}
      <ErrorBox error={seg.error} />
      {pending ? (
        <div className="notice" role="status">
          Evaluating the segment…
        </div>
      ) : null}
      {s ? (
        <>
          <div className="tiles">
            <Tile label="Members" value={<span data-testid="segment-members">{fmtNum(s.members)}</span>} />
            <Tile label="Status" value={<StatusBadge status={s.status} />} />
            <Tile label="Type" value={s.type} />
            <Tile label="Updated" value={<span className="small">{fmtTime(s.updated_at)}</span>} />
          </div>
          {s.description ? <p>{s.description}</p> : null}
          {problems.length ? (
            <div className="problems" role="alert" data-testid="problems">
              <h2>Problems (this segment is a {s.status})</h2>
              <ul>
                {problems.map((p, i) => (
                  <li key={i}>{problemText(p)}</li>
                ))}
              </ul>
              <a href={href('segments', name, 'edit')}>Fix in the builder</a>
            </div>
          ) : null}
        </>
      ) : null}
      <nav className="tabs" aria-label="Segment views">
        <a className="button" href={href('segments', name)} aria-current={tab === 'overview' ? 'page' : undefined}>
          Overview
        </a>
        <a className="button" href={href('segments', name, 'insights')} aria-current={tab === 'insights' ? 'page' : undefined}>
          Insights
        </a>
      </nav>
      {tab === 'insights' ? <SegmentInsights name={name} segment={s} onChanged={reloadAll} /> : overview()}
    </>
  );

  // The overview tab (called, not mounted as a component, so its charts keep their state).
  function overview() {
    return (
    <>
      <div className="grid2">
        <section className="card" aria-labelledby="hist-h">
          <h2 id="hist-h">Members over time</h2>
          <ErrorBox error={history.error} />
          {hist.length ? (
            <LineChart label={`${name} members over time`} labels={hist.map((h) => fmtTime(h.evaluated_at))} values={hist.map((h) => Number(h.members))} />
          ) : (
            <p className="muted">No history yet.</p>
          )}
          <details>
            <summary>History table</summary>
            <DataTable rows={hist as unknown as Row[]} render={{ evaluated_at: (r) => fmtTime(r.evaluated_at) }} />
          </details>
        </section>
        <section className="card" aria-labelledby="rules-h">
          <h2 id="rules-h">Counts per rule</h2>
          <ErrorBox error={inspect.error} />
          <DataTable rows={ruleCounts.map((r, i) => ({ rule: i + 1, members: r.members, 'total after combining': r.running_total }))} empty="No counts yet: run the segment." testid="rule-counts" />
          {def ? (
            <details>
              <summary>Definition</summary>
              <pre className="code">{JSON.stringify(def, null, 2)}</pre>
            </details>
          ) : null}
        </section>
      </div>
      <section aria-labelledby="mem-h">
        <h2 id="mem-h">First 100 members</h2>
        {pending ? null : <ErrorBox error={members.error} />}
        {members.loading && !members.data ? <Loading what="members" /> : null}
        <DataTable
          testid="segment-members-table"
          rows={members.data?.items ?? []}
          empty="No members."
          render={{ CustomerId: (r) => <a href={href('customers', String(r.CustomerId))}>{String(r.CustomerId)}</a> }}
        />
      </section>
    </>
    );
  }
}
