// The segment definition as the builder edits it, and the server's operator
// table (GET segment-operators: the same table the server validates with).
import { api, enc, Field } from './api';
import type { SegmentDefinition } from './api.gen';

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

/** The kind of a field's type, as the server names it. */
export type Kind = 'number' | 'text' | 'date' | 'boolean';
export type Arity = 0 | 1 | 2 | 'many';

/** One row of the server's segment operator table (GET segment-operators). */
export interface OperatorInfo {
  name: string;
  label: string;
  /** the label on each kind of field */
  labels: Record<Kind, string>;
  values: Arity;
  /** kinds of field it applies to (aliases included) */
  applies: Kind[];
  /** kinds whose operator menu lists it, in menu order */
  offered: Kind[];
  /** unit names it takes; empty: none */
  units: string[];
  /** the kind of its values when not the field's (in_last: a number of units) */
  value_kind: Kind | null;
}
export interface OperatorTable {
  kinds: Kind[];
  /** field type name ("int64", "timestamp", ...) -> kind */
  types: Record<string, Kind>;
  operators: OperatorInfo[];
  /** aggregate functions of aggregate conditions */
  aggregates: string[];
}

let operatorTable: Promise<OperatorTable> | undefined;
/** The server's operator table, fetched once (again after a failure). */
export function loadOperators(): Promise<OperatorTable> {
  if (!operatorTable) {
    operatorTable = api.get<OperatorTable>('segment-operators');
    operatorTable.catch(() => (operatorTable = undefined));
  }
  return operatorTable;
}

export function kindOf(t: OperatorTable | undefined, type: string | undefined): Kind {
  return t?.types[(type ?? '').toLowerCase()] ?? 'text';
}
/** The operator menu for fields of `kind`: value and label, in the server's order. */
export function opsFor(t: OperatorTable | undefined, kind: Kind): { op: string; label: string }[] {
  return (t?.operators ?? []).filter((o) => o.offered.includes(kind)).map((o) => ({ op: o.name, label: o.labels[kind] ?? o.label }));
}
/** How many values an operator takes: 0, 1, 2 or 'many'. */
export function arity(t: OperatorTable | undefined, op: string): Arity {
  return t?.operators.find((o) => o.name === op)?.values ?? 1;
}
/** The units an operator takes, or null. */
export function unitsFor(t: OperatorTable | undefined, op: string): string[] | null {
  const u = t?.operators.find((o) => o.name === op)?.units ?? [];
  return u.length ? u : null;
}
/** The kind of an operator's values on a field of `kind`. */
export function valueKind(t: OperatorTable | undefined, kind: Kind, op: string): Kind {
  return t?.operators.find((o) => o.name === op)?.value_kind ?? kind;
}
/** The input type for an operator's values on a field of `kind`. */
export function inputTypeFor(t: OperatorTable | undefined, kind: Kind, op: string): string {
  const k = valueKind(t, kind, op);
  return k === 'date' ? 'date' : k === 'number' ? 'number' : 'text';
}
/** A value as typed -> its JSON form for the operator's values on a field of `kind`. */
export function typedValue(t: OperatorTable | undefined, kind: Kind, op: string, v: string): unknown {
  const s = v.trim();
  if (valueKind(t, kind, op) === 'number' && s !== '' && !Number.isNaN(Number(s))) return Number(s);
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

/**
 * Drops UI-only empties so the server sees a clean definition. The builder
 * keeps operators as plain strings chosen from the server's menu; the result
 * is the generated request type (the server checks it against the same schema).
 */
export function cleanDef(d: SegmentDef): SegmentDefinition {
  const out: SegmentDef = { ...d, rules: d.rules.map((r, i) => ({ ...r, combine: i === 0 ? undefined : r.combine ?? 'union' })) };
  if (!out.display_name) delete out.display_name;
  if (!out.description) delete out.description;
  if (!out.schedule) delete out.schedule;
  for (const r of out.rules) {
    if (!r.combine) delete r.combine;
    if (!r.all_records) delete r.all_records;
  }
  return out as SegmentDefinition;
}

export function problemText(p: unknown): string {
  if (typeof p === 'string') return p;
  const o = p as { path?: string; message?: string };
  if (o && o.message) return o.path ? `${o.path}: ${o.message}` : o.message;
  return JSON.stringify(p);
}
