// The segment definition as JSON (src/segment/README.md) and the operator table.
import { api, enc, Field } from './api';

export interface Condition {
  entity?: string;
  field?: string;
  op: string;
  values?: unknown[];
  unit?: string;
  case_insensitive?: boolean;
  aggregate?: string;
  filters?: Condition[];
  window?: unknown;
  time_field?: string;
}
export interface OrGroup {
  any: Condition[];
}
export type Term = Condition | OrGroup;
export interface Rule {
  entity: string;
  all_records?: boolean;
  conditions: Term[];
  combine?: string;
}
export interface SegmentDef {
  name: string;
  display_name?: string;
  description?: string;
  type: 'dynamic' | 'static' | string;
  schedule?: string;
  rules: Rule[];
}
export const isGroup = (t: Term): t is OrGroup => (t as OrGroup).any !== undefined;

export type Kind = 'number' | 'text' | 'date' | 'bool';
export function kindOf(type: string | undefined): Kind {
  const t = (type ?? '').toLowerCase();
  if (/int|double|float|decimal|number|numeric/.test(t)) return 'number';
  if (/date|time/.test(t)) return 'date';
  if (/bool/.test(t)) return 'bool';
  return 'text';
}

export const OPS: Record<Kind, { op: string; label: string }[]> = {
  number: [
    { op: 'equals', label: 'equals' },
    { op: 'not_equals', label: 'does not equal' },
    { op: 'greater', label: 'greater than' },
    { op: 'greater_equal', label: 'greater than or equal to' },
    { op: 'less', label: 'less than' },
    { op: 'less_equal', label: 'less than or equal to' },
    { op: 'between', label: 'between' },
    { op: 'in', label: 'is one of' },
    { op: 'not_in', label: 'is none of' },
    { op: 'is_empty', label: 'is empty' },
    { op: 'is_not_empty', label: 'is not empty' },
  ],
  text: [
    { op: 'equals', label: 'equals' },
    { op: 'not_equals', label: 'does not equal' },
    { op: 'contains', label: 'contains' },
    { op: 'not_contains', label: 'does not contain' },
    { op: 'starts_with', label: 'starts with' },
    { op: 'ends_with', label: 'ends with' },
    { op: 'in', label: 'is one of' },
    { op: 'not_in', label: 'is none of' },
    { op: 'is_empty', label: 'is empty' },
    { op: 'is_not_empty', label: 'is not empty' },
  ],
  date: [
    { op: 'on', label: 'on' },
    { op: 'not_equals', label: 'not on' },
    { op: 'before', label: 'before' },
    { op: 'after', label: 'after' },
    { op: 'on_or_before', label: 'on or before' },
    { op: 'on_or_after', label: 'on or after' },
    { op: 'between', label: 'between' },
    { op: 'in_last', label: 'in the last' },
    { op: 'in_next', label: 'in the next' },
    { op: 'this_period', label: 'this' },
    { op: 'last_period', label: 'last' },
    { op: 'anniversary_within', label: 'anniversary within (days)' },
    { op: 'is_empty', label: 'is empty' },
    { op: 'is_not_empty', label: 'is not empty' },
  ],
  bool: [
    { op: 'is_true', label: 'is true' },
    { op: 'is_false', label: 'is false' },
    { op: 'is_empty', label: 'is empty' },
    { op: 'is_not_empty', label: 'is not empty' },
  ],
};
export const AGGREGATES = ['count', 'sum', 'average', 'min', 'max'];
export const SPAN_UNITS = ['days', 'weeks', 'months', 'quarters', 'years'];
export const PERIOD_UNITS = ['month', 'quarter', 'year'];

/** How many values an operator takes: 0, 1, 2 or 'many'. */
export function arity(op: string): 0 | 1 | 2 | 'many' {
  if (['is_empty', 'is_not_empty', 'is_true', 'is_false', 'this_period', 'last_period'].includes(op)) return 0;
  if (op === 'between') return 2;
  if (op === 'in' || op === 'not_in') return 'many';
  return 1;
}
export function unitsFor(op: string): string[] | null {
  if (op === 'in_last' || op === 'in_next') return SPAN_UNITS;
  if (op === 'this_period' || op === 'last_period') return PERIOD_UNITS;
  return null;
}
/** A value as typed -> its JSON form for the field's kind. */
export function typedValue(kind: Kind, op: string, v: string): unknown {
  const s = v.trim();
  if (kind === 'number' || op === 'in_last' || op === 'in_next' || op === 'anniversary_within') {
    if (s !== '' && !Number.isNaN(Number(s))) return Number(s);
  }
  return s;
}

const schemaCache = new Map<string, Promise<Field[]>>();
export function schemaOf(entity: string): Promise<Field[]> {
  let p = schemaCache.get(entity);
  if (!p) {
    p = api.get<{ fields: Field[] }>(`entities/${enc(entity)}/schema`).then((s) => s.fields ?? []);
    p.catch(() => schemaCache.delete(entity));
    schemaCache.set(entity, p);
  }
  return p;
}

export function blankCondition(): Condition {
  return { field: '', op: '', values: [] };
}
export function blankDef(): SegmentDef {
  return { name: '', display_name: '', type: 'dynamic', rules: [{ entity: 'Customer', conditions: [blankCondition()] }] };
}

/** Extracts the definition from GET /segments/{name}, whatever it wraps it in. */
export function defFromResponse(r: Record<string, unknown>): SegmentDef {
  const d = (r.definition ?? r) as SegmentDef;
  return {
    name: d.name ?? (r.name as string),
    display_name: d.display_name ?? '',
    description: d.description,
    type: d.type ?? 'dynamic',
    schedule: d.schedule,
    rules: d.rules ?? [],
  };
}

/** Drops UI-only empties so the server sees a clean definition. */
export function cleanDef(d: SegmentDef): SegmentDef {
  const out: SegmentDef = { ...d, rules: d.rules.map((r, i) => ({ ...r, combine: i === 0 ? undefined : r.combine ?? 'union' })) };
  if (!out.display_name) delete out.display_name;
  if (!out.description) delete out.description;
  if (!out.schedule) delete out.schedule;
  for (const r of out.rules) {
    if (!r.combine) delete r.combine;
    if (!r.all_records) delete r.all_records;
  }
  return out;
}

export function problemText(p: unknown): string {
  if (typeof p === 'string') return p;
  const o = p as { path?: string; message?: string };
  if (o && o.message) return o.path ? `${o.path}: ${o.message}` : o.message;
  return JSON.stringify(p);
}
