import { useEffect, useMemo, useState } from 'react';
import { api, enc, Field, Page } from '../api';
import { ErrorBox, LabeledInput, LabeledSelect, LabeledTextArea, Loading } from '../components';
import {
  arity,
  blankCondition,
  blankDef,
  cleanDef,
  Condition,
  defFromResponse,
  isGroup,
  inputTypeFor,
  kindOf,
  loadOperators,
  opsFor,
  problemText,
  Rule,
  schemaOf,
  SegmentDef,
  Term,
  typedValue,
  unitsFor,
} from '../segmodel';
import { errText, fmtNum, go, href, useAction, useDebounced, useId, useLoad } from '../util';

interface Estimate {
  members?: number;
  rules?: { members?: number; total?: number; running?: number }[];
  problems?: unknown[];
}

/** The segment builder: rules (AND/OR conditions) combined with union/intersect/except. */
export function SegmentBuilder({ editName }: { editName?: string }) {
  const existing = useLoad(async () => (editName ? defFromResponse(await api.get(`segments/${enc(editName)}`)) : blankDef()), [editName]);
  if (existing.error) return <ErrorBox error={existing.error} />;
  if (!existing.data) return <Loading what="segment" />;
  return <Builder initial={existing.data} editing={!!editName} />;
}

function Builder({ initial, editing }: { initial: SegmentDef; editing: boolean }) {
  const [def, setDef] = useState<SegmentDef>(initial);
  const [mode, setMode] = useState<'form' | 'json'>('form');
  const [jsonText, setJsonText] = useState('');
  const [jsonError, setJsonError] = useState<string>();
  const entities = useLoad(() => api.get<Page<{ name: string }>>('entities'), []);
  const entityNames = useMemo(() => {
    const names = (entities.data?.items ?? []).map((e) => e.name);
    const rest = names.filter((n) => n !== 'Customer' && n !== 'Customer_Measure' && !/^(Dedup_|ConflationMatchPairs|CustomerSourceKeys)/.test(n));
    return ['Customer', 'Customer_Measure', ...rest];
  }, [entities.data]);

  // Estimate while editing (debounced).
  const clean = useMemo(() => cleanDef(def), [def]);
  const debounced = useDebounced(JSON.stringify(clean), 600);
  const [estimate, setEstimate] = useState<Estimate>();
  const [estimateError, setEstimateError] = useState<unknown>();
  const [estimating, setEstimating] = useState(false);
  useEffect(() => {
    let live = true;
    setEstimating(true);
    const body = JSON.parse(debounced) as SegmentDef;
    // The whole definition, and each rule on its own when there are several.
    const perRule = body.rules.length > 1 ? body.rules.map((r) => api.post<Estimate>('segments/estimate', { ...body, rules: [{ ...r, combine: undefined }] }).catch(() => undefined)) : [];
    Promise.all([api.post<Estimate>('segments/estimate', body), ...perRule]).then(
      ([e, ...rules]) => {
        if (!live) return;
        if (!e.rules && rules.length) e.rules = rules.map((r) => ({ members: (r as Estimate | undefined)?.members ?? undefined }));
        setEstimate(e);
        setEstimateError(undefined);
        setEstimating(false);
      },
      (e) => {
        if (!live) return;
        setEstimateError(e);
        setEstimating(false);
      },
    );
    return () => {
      live = false;
    };
  }, [debounced]);

  const save = useAction();
  const [saved, setSaved] = useState<{ status?: string; problems?: unknown[] }>();
  const doSave = () =>
    save.run(async () => {
      const body = cleanDef(def);
      const r = editing
        ? await api.send<{ status?: string; problems?: unknown[] }>('PUT /api/v1/segments/{name}', `segments/${enc(def.name)}`, body)
        : await api.send<{ status?: string; problems?: unknown[] }>('POST /api/v1/segments', 'segments', body);
      setSaved(r ?? {});
      // An active dynamic segment is evaluated by the server right after saving.
      if (!r?.problems?.length) go('segments', def.name);
    });

  const setRule = (i: number, r: Rule) => setDef({ ...def, rules: def.rules.map((x, j) => (j === i ? r : x)) });
  const nameId = useId('segname');

  return (
    <>
      <div className="page-head">
        <h1>{editing ? `Edit segment ${def.name}` : 'New segment'}</h1>
        <div className="actions">
          <a className="button" href={editing ? href('segments', def.name) : href('segments')}>
            Cancel
          </a>
        </div>
      </div>
      <div className="builder-layout">
        <div className="builder-main">
          <fieldset className="card">
            <legend>Segment</legend>
            <div className="row">
              <div className="field">
                <label htmlFor={nameId}>Name (output entity)</label>
                <input id={nameId} value={def.name} disabled={editing} onChange={(e) => setDef({ ...def, name: e.target.value })} placeholder="SummerPromo" />
              </div>
              <LabeledInput label="Display name" value={def.display_name ?? ''} onChange={(v) => setDef({ ...def, display_name: v })} placeholder="Summer Promotion" />
              <LabeledSelect label="Type" value={def.type} onChange={(v) => setDef({ ...def, type: v })} options={[{ value: 'dynamic', label: 'Dynamic (refreshes)' }, { value: 'static', label: 'Static (frozen on save)' }]} />
              {def.type === 'dynamic' ? <LabeledInput label="Schedule (cron, optional)" value={def.schedule ?? ''} onChange={(v) => setDef({ ...def, schedule: v })} placeholder="0 */12 * * *" /> : null}
            </div>
            <LabeledInput label="Description" value={def.description ?? ''} onChange={(v) => setDef({ ...def, description: v })} />
          </fieldset>

          <div className="tabs" role="group" aria-label="Editor">
            <button type="button" aria-pressed={mode === 'form'} onClick={() => setMode('form')}>
              Rules
            </button>
            <button
              type="button"
              aria-pressed={mode === 'json'}
              onClick={() => {
                setJsonText(JSON.stringify(cleanDef(def), null, 2));
                setJsonError(undefined);
                setMode('json');
              }}
            >
              JSON
            </button>
          </div>

          {mode === 'json' ? (
            <div className="card">
              <LabeledTextArea label="Definition (JSON)" value={jsonText} onChange={setJsonText} rows={20} />
              <ErrorBox error={jsonError ? new Error(jsonError) : undefined} />
              <button
                type="button"
                onClick={() => {
                  try {
                    const d = JSON.parse(jsonText);
                    setDef({ ...blankDef(), ...d, rules: d.rules ?? [] });
                    setJsonError(undefined);
                    setMode('form');
                  } catch (e) {
                    setJsonError(`Not valid JSON: ${(e as Error).message}`);
                  }
                }}
              >
                Apply JSON
              </button>
            </div>
          ) : (
            <>
              {def.rules.map((r, i) => (
                <RuleEditor
                  key={i}
                  index={i}
                  rule={r}
                  entities={entityNames}
                  count={estimate?.rules?.[i]?.members}
                  onChange={(nr) => setRule(i, nr)}
                  onRemove={def.rules.length > 1 ? () => setDef({ ...def, rules: def.rules.filter((_, j) => j !== i) }) : undefined}
                />
              ))}
              <button type="button" onClick={() => setDef({ ...def, rules: [...def.rules, { entity: 'Customer', combine: 'union', conditions: [blankCondition()] }] })}>
                + Add rule
              </button>
            </>
          )}
        </div>

        <aside className="builder-side card" aria-label="Estimate">
          <h2>Estimated members</h2>
          <div className="big" data-testid="estimate" aria-live="polite">
            {estimate?.members !== undefined && estimate?.members !== null ? fmtNum(estimate.members) : '—'}
          </div>
          <div className="muted small">{estimating ? 'estimating…' : 'updates as you edit'}</div>
          {estimate?.rules?.length ? (
            <ul className="plain">
              {estimate.rules.map((r, i) => (
                <li key={i}>
                  Rule {i + 1}: {fmtNum(r.members)}
                </li>
              ))}
            </ul>
          ) : null}
          {estimateError ? <p className="muted small">Estimate unavailable: {errText(estimateError)}</p> : null}
          {estimate?.problems?.length ? (
            <div className="problems" data-testid="problems">
              <h3>Problems</h3>
              <ul>
                {estimate.problems.map((p, i) => (
                  <li key={i}>{problemText(p)}</li>
                ))}
              </ul>
              <p className="muted small">You can still save: a segment with problems is kept as a draft.</p>
            </div>
          ) : null}
          <button type="button" className="primary" disabled={save.busy || !def.name} onClick={doSave}>
            {save.busy ? 'Saving…' : 'Save'}
          </button>
          <ErrorBox error={save.error} title="Save" />
          {saved?.problems?.length ? (
            <div className="problems" role="alert">
              Saved as {saved.status ?? 'draft'}: <a href={href('segments', def.name)}>open segment</a>
            </div>
          ) : null}
        </aside>
      </div>
    </>
  );
}

function RuleEditor({
  index,
  rule,
  entities,
  count,
  onChange,
  onRemove,
}: {
  index: number;
  rule: Rule;
  entities: string[];
  count?: number;
  onChange: (r: Rule) => void;
  onRemove?: () => void;
}) {
  const allId = useId('all');
  const setTerm = (i: number, t: Term) => onChange({ ...rule, conditions: rule.conditions.map((x, j) => (j === i ? t : x)) });
  const removeTerm = (i: number) => onChange({ ...rule, conditions: rule.conditions.filter((_, j) => j !== i) });
  return (
    <fieldset className="card rule" data-testid={`rule-${index}`}>
      <legend>
        Rule {index + 1}
        {count !== undefined ? <span className="muted"> · {fmtNum(count)} members</span> : null}
      </legend>
      <div className="row">
        {index > 0 ? (
          <LabeledSelect
            label={`How rule ${index + 1} combines`}
            value={rule.combine ?? 'union'}
            onChange={(v) => onChange({ ...rule, combine: v })}
            options={[
              { value: 'union', label: 'Union (or)' },
              { value: 'intersect', label: 'Intersect (and)' },
              { value: 'except', label: 'Except (minus)' },
            ]}
          />
        ) : null}
        <LabeledSelect label={`Rule ${index + 1} entity`} value={rule.entity} onChange={(v) => onChange({ ...rule, entity: v })} options={entities.includes(rule.entity) ? entities : [rule.entity, ...entities]} />
        <div className="field check">
          <input id={allId} type="checkbox" checked={!!rule.all_records} onChange={(e) => onChange({ ...rule, all_records: e.target.checked })} />
          <label htmlFor={allId}>All records</label>
        </div>
        {onRemove ? (
          <button type="button" className="danger" onClick={onRemove}>
            Remove rule {index + 1}
          </button>
        ) : null}
      </div>
      {rule.conditions.map((t, i) => (
        <div key={i} className="term">
          {i > 0 ? <div className="joiner">AND</div> : null}
          {isGroup(t) ? (
            <div className="orgroup" role="group" aria-label={`Rule ${index + 1} condition ${i + 1}: any of`}>
              {t.any.map((c, k) => (
                <div key={k}>
                  {k > 0 ? <div className="joiner">OR</div> : null}
                  <ConditionEditor
                    path={`Rule ${index + 1} condition ${i + 1}.${k + 1}`}
                    ruleEntity={rule.entity}
                    cond={c}
                    onChange={(nc) => setTerm(i, { any: t.any.map((x, j) => (j === k ? nc : x)) })}
                    onRemove={() => (t.any.length > 1 ? setTerm(i, { any: t.any.filter((_, j) => j !== k) }) : removeTerm(i))}
                  />
                </div>
              ))}
              <button type="button" onClick={() => setTerm(i, { any: [...t.any, blankCondition()] })}>
                + OR
              </button>
            </div>
          ) : (
            <ConditionEditor
              path={`Rule ${index + 1} condition ${i + 1}`}
              ruleEntity={rule.entity}
              cond={t}
              onChange={(nc) => setTerm(i, nc)}
              onRemove={() => removeTerm(i)}
              onOr={() => setTerm(i, { any: [t, blankCondition()] })}
            />
          )}
        </div>
      ))}
      <div className="row">
        <button type="button" onClick={() => onChange({ ...rule, conditions: [...rule.conditions, blankCondition()] })}>
          + AND condition
        </button>
        <button type="button" onClick={() => onChange({ ...rule, conditions: [...rule.conditions, { any: [blankCondition(), blankCondition()] }] })}>
          + AND (any of…)
        </button>
        <button type="button" onClick={() => onChange({ ...rule, conditions: [...rule.conditions, { aggregate: 'count', entity: rule.entity === 'Customer' ? '' : rule.entity, op: 'greater', values: [0] }] })}>
          + Aggregate condition
        </button>
      </div>
    </fieldset>
  );
}

function ConditionEditor({
  path,
  ruleEntity,
  cond,
  onChange,
  onRemove,
  onOr,
}: {
  path: string;
  ruleEntity: string;
  cond: Condition;
  onChange: (c: Condition) => void;
  onRemove: () => void;
  onOr?: () => void;
}) {
  const isAgg = !!cond.aggregate;
  // Field conditions read the rule's entity, or Customer / Customer_Measure.
  const entity = cond.entity || ruleEntity;
  const [fields, setFields] = useState<Field[]>([]);
  useEffect(() => {
    if (!entity) return;
    let live = true;
    schemaOf(entity).then(
      (f) => live && setFields(f),
      () => live && setFields([]),
    );
    return () => {
      live = false;
    };
  }, [entity]);
  const operators = useLoad(() => loadOperators(), []);
  const table = operators.data;
  const field = fields.find((f) => f.name === cond.field);
  const kind = isAgg ? 'number' : kindOf(table, field?.type);
  const ops = opsFor(table, kind);
  const n = arity(table, cond.op);
  const units = unitsFor(table, cond.op);
  const vals = (cond.values ?? []).map((v) => (v === null || v === undefined ? '' : String(v)));
  const setVals = (arr: string[]) => onChange({ ...cond, values: arr.map((s) => typedValue(table, kind, cond.op, s)) });
  const inputType = inputTypeFor(table, kind, cond.op);
  const entityOptions = ruleEntity === 'Customer' ? ['Customer', 'Customer_Measure'] : ruleEntity === 'Customer_Measure' ? ['Customer_Measure', 'Customer'] : [ruleEntity, 'Customer', 'Customer_Measure'];

  return (
    <div className="cond" role="group" aria-label={path}>
      {isAgg ? (
        <>
          <LabeledSelect srPrefix={path} label="Function" value={cond.aggregate ?? 'count'} onChange={(v) => onChange({ ...cond, aggregate: v })} options={table?.aggregates ?? []} />
          <LabeledInput srPrefix={path} label="Of entity" value={cond.entity ?? ''} onChange={(v) => onChange({ ...cond, entity: v || undefined })} placeholder={ruleEntity} />
        </>
      ) : (
        <LabeledSelect srPrefix={path} label="Entity" value={cond.entity || ruleEntity} onChange={(v) => onChange({ ...cond, entity: v === ruleEntity ? undefined : v, field: '', op: '', values: [] })} options={entityOptions} />
      )}
      <LabeledSelect
        srPrefix={path} label="Field"
        value={cond.field ?? ''}
        placeholder={isAgg ? '(rows)' : 'Choose a field'}
        onChange={(v) => {
          const f = fields.find((x) => x.name === v);
          const k = isAgg ? 'number' : kindOf(table, f?.type);
          const keep = opsFor(table, k).some((o) => o.op === cond.op);
          onChange({ ...cond, field: v, op: keep ? cond.op : isAgg ? cond.op : '', values: keep ? cond.values : [] });
        }}
        options={(cond.field && !fields.some((f) => f.name === cond.field) ? [{ value: cond.field, label: cond.field }] : []).concat(fields.map((f) => ({ value: f.name, label: `${f.name} (${f.type})` })))}
      />
      <LabeledSelect
        srPrefix={path} label="Operator"
        value={cond.op}
        placeholder="Choose an operator"
        onChange={(v) => {
          const u = unitsFor(table, v);
          onChange({ ...cond, op: v, unit: u ? (u.includes(cond.unit ?? '') ? cond.unit : u[0]) : undefined, values: arity(table, v) === 0 ? [] : cond.values });
        }}
        options={(cond.op && !ops.some((o) => o.op === cond.op) ? [{ op: cond.op, label: cond.op }] : []).concat(ops).map((o) => ({ value: o.op, label: o.label }))}
      />
      {n === 1 ? <LabeledInput srPrefix={path} label="Value" type={inputType} value={vals[0] ?? ''} onChange={(v) => setVals([v])} /> : null}
      {n === 2 ? (
        <>
          <LabeledInput srPrefix={path} label="From" type={inputType} value={vals[0] ?? ''} onChange={(v) => setVals([v, vals[1] ?? ''])} />
          <LabeledInput srPrefix={path} label="To" type={inputType} value={vals[1] ?? ''} onChange={(v) => setVals([vals[0] ?? '', v])} />
        </>
      ) : null}
      {n === 'many' ? (
        <LabeledInput srPrefix={path} label="Values (comma-separated)" value={vals.join(', ')} onChange={(v) => setVals(v.split(',').map((s) => s.trim()).filter((s, i, a) => s !== '' || i < a.length - 1))} />
      ) : null}
      {units ? <LabeledSelect srPrefix={path} label="Unit" value={cond.unit ?? units[0]} onChange={(v) => onChange({ ...cond, unit: v })} options={units} /> : null}
      {kind === 'text' && n !== 0 && !isAgg ? (
        <CheckBox label="Ignore case" checked={!!cond.case_insensitive} onChange={(c) => onChange({ ...cond, case_insensitive: c || undefined })} />
      ) : null}
      {isAgg ? <LabeledInput srPrefix={path} label="Time field (optional)" value={cond.time_field ?? ''} onChange={(v) => onChange({ ...cond, time_field: v || undefined })} /> : null}
      <div className="cond-actions">
        {onOr ? (
          <button type="button" onClick={onOr} aria-label={`${path}: add OR alternative`}>
            + OR
          </button>
        ) : null}
        <button type="button" className="danger" onClick={onRemove} aria-label={`Remove ${path}`}>
          Remove
        </button>
      </div>
    </div>
  );
}

function CheckBox({ label, checked, onChange }: { label: string; checked: boolean; onChange: (c: boolean) => void }) {
  const id = useId('cb');
  return (
    <div className="field check">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}
