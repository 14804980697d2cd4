import { FormEvent, useState } from 'react';
import { api, enc, MeasureBody, Page, Row } from '../api';
import { BarChart, DataTable, ErrorBox, LabeledInput, LabeledSelect, LabeledTextArea, Loading } from '../components';
import { usePaged } from '../paging';
import { fmtNum, go, href, useAction, useLoad } from '../util';

type Measure = Record<string, unknown> & { name: string };
const FUNCTIONS = ['sum', 'average', 'count', 'count_unique', 'min', 'max', 'first', 'last'];

export function MeasuresPage({ rest }: { rest: string[] }) {
  if (rest[0] === 'new') return <MeasureBuilder />;
  if (rest[0] && rest[1] === 'edit') return <MeasureBuilder name={rest[0]} />;
  if (rest[0]) return <MeasureDetail name={rest[0]} />;
  return <MeasureList />;
}

function MeasureList() {
  const list = useLoad(() => api.get<Page<Measure>>('measures'), []);
  return (
    <>
      <div className="page-head">
        <h1>Measures</h1>
        <div className="actions">
          <a className="button primary" href={href('measures', 'new')}>
            New measure
          </a>
        </div>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? <Loading what="measures" /> : null}
      <DataTable
        rows={(list.data?.items ?? []) as Row[]}
        columns={['name', 'function', 'activity', 'entity', 'field', 'formula', 'window', 'description']}
        render={{ name: (r) => <a href={href('measures', String(r.name))}>{String(r.name)}</a> }}
      />
    </>
  );
}

function MeasureDetail({ name }: { name: string }) {
  const m = useLoad(() => api.get<Measure>(`measures/${enc(name)}`), [name]);
  const [bins, setBins] = useState('20');
  const hist = useLoad(() => api.get<{ bins: { lo: number; hi: number; count: number }[] }>(`measures/${enc(name)}/histogram`, { bins }), [name, bins]);
  const values = usePaged<Row>(`measures/${enc(name)}/values`, {}, 20, []);
  const del = useAction();
  const b = hist.data?.bins ?? [];
  return (
    <>
      <div className="page-head">
        <h1>{name}</h1>
        <div className="actions">
          <a className="button" href={href('measures', name, 'edit')}>
            Edit
          </a>
          <a className="button" href={href('segments', 'quick') + '?from=measure'}>
            Segment from a measure
          </a>
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (window.confirm(`Delete measure ${name}?`))
                del.run(async () => {
                  await api.del(`measures/${enc(name)}`);
                  go('measures');
                });
            }}
          >
            Delete
          </button>
        </div>
      </div>
      <ErrorBox error={del.error} />
      <ErrorBox error={m.error} />
      {m.data ? <pre className="code">{JSON.stringify(m.data, null, 2)}</pre> : null}
      <section className="card" aria-labelledby="hist-h">
        <h2 id="hist-h">Distribution</h2>
        <LabeledSelect label="Bins" value={bins} onChange={setBins} options={['10', '20', '50']} />
        <ErrorBox error={hist.error} />
        {b.length ? <BarChart label={`${name} histogram`} labels={b.map((x) => `${fmtNum(x.lo)}–${fmtNum(x.hi)}`)} values={b.map((x) => x.count)} /> : <p className="muted">No values.</p>}
      </section>
      <section aria-labelledby="vals-h">
        <h2 id="vals-h">Values</h2>
        <ErrorBox error={values.error} />
        <DataTable testid="measure-values" rows={values.items} render={{ CustomerId: (r) => <a href={href('customers', String(r.CustomerId))}>{String(r.CustomerId)}</a> }} />
        {values.pager('Values')}
      </section>
    </>
  );
}

interface Filter {
  field: string;
  op: string;
  value: string;
}

function MeasureBuilder({ name: editName }: { name?: string }) {
  const existing = useLoad(() => (editName ? api.get<Measure>(`measures/${enc(editName)}`) : Promise.resolve(undefined)), [editName]);
  const acts = useLoad(() => api.get<unknown>('activities'), []);
  const activityNames = ((Array.isArray(acts.data) ? acts.data : (acts.data as { items?: Row[] })?.items) ?? []).map((a) => String((a as Row).name));
  if (editName && !existing.data && !existing.error) return <Loading what="measure" />;
  return <MeasureForm key={editName ?? 'new'} initial={existing.data} activities={activityNames} loadError={existing.error} />;
}

function MeasureForm({ initial, activities, loadError }: { initial?: Measure; activities: string[]; loadError?: Error }) {
  const [mode, setMode] = useState<'form' | 'json'>(initial && (initial.formula || initial.dimensions) ? 'json' : 'form');
  const [name, setName] = useState(initial?.name ?? '');
  const [description, setDescription] = useState(String(initial?.description ?? ''));
  const [fn, setFn] = useState(String(initial?.function ?? 'sum'));
  const [source, setSource] = useState<'activity' | 'entity'>(initial?.entity ? 'entity' : 'activity');
  const [activity, setActivity] = useState(String(initial?.activity ?? ''));
  const [entity, setEntity] = useState(String(initial?.entity ?? ''));
  const [field, setField] = useState(String(initial?.field ?? ''));
  const [filters, setFilters] = useState<Filter[]>(((initial?.filters as Row[]) ?? []).map((f) => ({ field: String(f.field), op: String(f.op), value: String(f.value ?? '') })));
  const w = initial?.window as Record<string, unknown> | undefined;
  const [windowLast, setWindowLast] = useState(w?.last !== undefined ? String(w.last) : '');
  const [windowUnit, setWindowUnit] = useState(String(w?.unit ?? 'days'));
  const [defaultValue, setDefault] = useState(initial?.default !== undefined ? String(initial.default) : '');
  const [json, setJson] = useState(JSON.stringify(initial ?? { name: '', function: 'sum', activity: '', field: '' }, null, 2));
  const save = useAction();

  const body = (): Record<string, unknown> => {
    if (mode === 'json') return JSON.parse(json);
    const m: Record<string, unknown> = { name, function: fn };
    if (description) m.description = description;
    if (source === 'activity') m.activity = activity;
    else m.entity = entity;
    if (field) m.field = field;
    if (filters.length) m.filters = filters.map((f) => ({ field: f.field, op: f.op, value: f.value !== '' && !Number.isNaN(Number(f.value)) ? Number(f.value) : f.value }));
    if (windowLast) m.window = { last: Number(windowLast), unit: windowUnit };
    if (defaultValue !== '') m.default = Number.isNaN(Number(defaultValue)) ? defaultValue : Number(defaultValue);
    return m;
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.run(async () => {
      const b = body();
      if (initial) await api.send('PUT /api/v1/measures/{name}', `measures/${enc(initial.name)}`, b as MeasureBody);
      else await api.send('POST /api/v1/measures', 'measures', b as MeasureBody);
      go('measures', String(b.name));
    });
  };
  return (
    <>
      <div className="page-head">
        <h1>{initial ? `Edit measure ${initial.name}` : 'New measure'}</h1>
      </div>
      <ErrorBox error={loadError} />
      <div className="tabs" role="group" aria-label="Editor">
        <button type="button" aria-pressed={mode === 'form'} onClick={() => setMode('form')}>
          Builder
        </button>
        <button
          type="button"
          aria-pressed={mode === 'json'}
          onClick={() => {
            setJson(JSON.stringify(body(), null, 2));
            setMode('json');
          }}
        >
          JSON (formulas, dimensions)
        </button>
      </div>
      <form className="card" onSubmit={submit}>
        {mode === 'json' ? (
          <LabeledTextArea label="Measure definition (JSON)" value={json} onChange={setJson} />
        ) : (
          <>
            <div className="row">
              <LabeledInput label="Name" value={name} onChange={setName} required />
              <LabeledInput label="Description" value={description} onChange={setDescription} />
            </div>
            <div className="row">
              <LabeledSelect label="Function" value={fn} onChange={setFn} options={FUNCTIONS} />
              <LabeledSelect label="Calculate over" value={source} onChange={(v) => setSource(v as 'activity' | 'entity')} options={[{ value: 'activity', label: 'an activity' }, { value: 'entity', label: 'an entity' }]} />
              {source === 'activity' ? (
                <LabeledSelect label="Activity" value={activity} placeholder="Choose…" onChange={setActivity} options={activities} />
              ) : (
                <LabeledInput label="Entity" value={entity} onChange={setEntity} placeholder="UnifiedActivity" />
              )}
              <LabeledInput label="Field" value={field} onChange={setField} placeholder="TotalPrice" />
              <LabeledInput label="Default (no rows)" value={defaultValue} onChange={setDefault} width="10em" />
            </div>
            <fieldset>
              <legend>Filters</legend>
              {filters.map((f, i) => (
                <div className="row" key={i}>
                  <LabeledInput label={`Filter ${i + 1} field`} value={f.field} onChange={(v) => setFilters(filters.map((x, j) => (j === i ? { ...x, field: v } : x)))} />
                  <LabeledSelect label={`Filter ${i + 1} operator`} value={f.op} onChange={(v) => setFilters(filters.map((x, j) => (j === i ? { ...x, op: v } : x)))} options={['equals', 'not_equals', 'greater', 'greater_equal', 'less', 'less_equal', 'contains']} />
                  <LabeledInput label={`Filter ${i + 1} value`} value={f.value} onChange={(v) => setFilters(filters.map((x, j) => (j === i ? { ...x, value: v } : x)))} />
                  <button type="button" className="danger" onClick={() => setFilters(filters.filter((_, j) => j !== i))}>
                    Remove filter {i + 1}
                  </button>
                </div>
              ))}
              <button type="button" onClick={() => setFilters([...filters, { field: '', op: 'equals', value: '' }])}>
                + Filter
              </button>
            </fieldset>
            <fieldset>
              <legend>Time window</legend>
              <div className="row">
                <LabeledInput label="Last N (empty = all time)" type="number" value={windowLast} onChange={setWindowLast} width="12em" />
                <LabeledSelect label="Unit" value={windowUnit} onChange={setWindowUnit} options={['days', 'weeks', 'months', 'quarters', 'years']} />
              </div>
            </fieldset>
          </>
        )}
        <ErrorBox error={save.error} title="Save" />
        <button type="submit" className="primary" disabled={save.busy}>
          {save.busy ? 'Saving…' : 'Save measure'}
        </button>
      </form>
    </>
  );
}
