// The only way the UI talks to cdp: the REST API under /api/v1 with an API key
// sent as `Authorization: Bearer <key>`. The key lives in sessionStorage.
// Request bodies are typed by api.gen.ts, generated from the server's OpenAPI
// document (web/scripts/gen-api-types.mjs).
import type { RequestBodies } from './api.gen';

export type { ApiKeyRequest, Measure as MeasureBody, Prediction as PredictionBody, QuickSegment, RefreshRequest, Schedules as SchedulesBody, SegmentDefinition, UnifyConfig } from './api.gen';

const KEY_STORAGE = 'cdp.apiKey';
export const API_BASE = 'api/v1';

export function getKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}
export function setKey(key: string) {
  sessionStorage.setItem(KEY_STORAGE, key);
}
export function clearKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

export class ApiError extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export type Query = Record<string, string | number | boolean | undefined | null | (string | number)[]>;

export function buildQuery(q?: Query): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, String(x)));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function url(path: string, q?: Query): string {
  // Relative to the page so the UI works behind a path prefix too.
  const base = new URL(API_BASE + '/', document.baseURI).toString();
  return base + path.replace(/^\//, '') + buildQuery(q);
}

async function raw(method: string, path: string, body?: unknown, q?: Query, key?: string): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const k = key ?? getKey();
  if (k) headers.Authorization = `Bearer ${k}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url(path, q), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach the server (${(e as Error).message})`);
  }
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const j = await res.json();
      if (j && j.error) {
        code = j.error.code ?? code;
        message = j.error.message ?? message;
      }
    } catch {
      /* not JSON */
    }
    if (res.status === 401 && !key) window.dispatchEvent(new Event('cdp-unauthorized'));
    if (res.status === 403) message = `Not permitted for your role: ${message}`;
    throw new ApiError(res.status, code, message);
  }
  return res;
}

async function json<T>(method: string, path: string, body?: unknown, q?: Query, key?: string): Promise<T> {
  const res = await raw(method, path, body, q, key);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, q?: Query) => json<T>('GET', path, undefined, q),
  /**
   * Sends the body of a documented operation: `route` is its "METHOD /api/v1/pattern"
   * (a key of the generated RequestBodies), `path` the concrete path below /api/v1.
   */
  send: <T, K extends keyof RequestBodies = keyof RequestBodies>(route: K, path: string, body: RequestBodies[K]) =>
    json<T>(route.slice(0, route.indexOf(' ')), path, body),
  post: <T>(path: string, body?: unknown, q?: Query) => json<T>('POST', path, body ?? {}, q),
  put: <T>(path: string, body: unknown) => json<T>('PUT', path, body),
  del: <T>(path: string) => json<T>('DELETE', path),
  /** Checks a key without storing it. */
  me: (key: string) => json<Me>('GET', 'me', undefined, undefined, key),
  /** Fetches a file with the key and hands it to the browser as a download. */
  async download(path: string, q: Query, filename: string) {
    const res = await raw('GET', path, undefined, q);
    const blob = await res.blob();
    const href = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = href;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  },
};

export const enc = encodeURIComponent;

// ---- shapes (see /api/v1/openapi.json) ----
export interface Me {
  id: string | number;
  name: string;
  role: 'admin' | 'contributor' | 'viewer' | string;
}
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}
export interface Stage {
  stage: string;
  status: string;
  duration_micros?: number;
  rows_in?: number;
  rows_out?: number;
  message?: string;
}
export interface Run {
  id: string | number;
  status: string;
  error?: string;
  trigger?: string;
  started_at?: string;
  finished_at?: string;
  stages?: Stage[];
}
export interface HistoryPoint {
  run_id?: string | number;
  members: number;
  evaluated_at: string;
}
export interface Overview {
  customers: number;
  source_records: number;
  profile_records?: number;
  sources?: { name: string; rows: number; profile?: boolean }[];
  unification_rate: number;
  last_run?: Run | null;
  segments: { name: string; display_name?: string; members: number; history?: HistoryPoint[] }[];
}
export interface Field {
  name: string;
  type: string;
  semantic?: string;
}
export interface SegmentSummary {
  name: string;
  display_name?: string;
  description?: string;
  type: string;
  status: string;
  members?: number | null;
  problems?: (string | { path?: string; message?: string })[];
  updated_at?: string;
}
export type Row = Record<string, unknown>;
