import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';

// ---- routing: hash routes (#/segments/Name) so any server path serves index.html ----
export function useRoute(): string[] {
  const parse = () =>
    (window.location.hash.replace(/^#\/?/, '').split('?')[0] || 'home')
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s));
  const [parts, setParts] = useState<string[]>(parse);
  useEffect(() => {
    const on = () => setParts(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parts;
}
export function hashQuery(): URLSearchParams {
  const h = window.location.hash;
  const i = h.indexOf('?');
  return new URLSearchParams(i >= 0 ? h.slice(i + 1) : '');
}
export function href(...parts: (string | number)[]): string {
  return '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
}
export function go(...parts: (string | number)[]) {
  window.location.hash = href(...parts);
}

// ---- data loading ----
export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    fn().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** Runs an action, keeping its pending state and its error for display. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn();
    } catch (e) {
      setError(e as Error);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

let idCounter = 0;
export function useId(prefix = 'f'): string {
  const r = useRef<string | undefined>(undefined);
  if (!r.current) r.current = `${prefix}-${++idCounter}`;
  return r.current;
}

// ---- formatting ----
export function fmtNum(n: unknown, digits = 2): string {
  if (n === null || n === undefined || n === '') return '—';
  const x = Number(n);
  if (!Number.isFinite(x)) return String(n);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return x.toLocaleString('en-US', { maximumFractionDigits: digits });
}
export function fmtPct(n: unknown): string {
  if (n === null || n === undefined) return '—';
  const x = Number(n);
  return `${(x <= 1 ? x * 100 : x).toFixed(1)}%`;
}
export function fmtTime(t: unknown): string {
  if (!t) return '—';
  const s = String(t);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}
export function fmtDuration(micros: unknown): string {
  if (micros === null || micros === undefined) return '—';
  const us = Number(micros);
  if (us < 1000) return `${us} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
export function fmtCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'number') return fmtNum(v, 4);
  return String(v);
}

export function errText(e: unknown): string {
  if (!e) return '';
  if (e instanceof ApiError) return `${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}`;
  return (e as Error).message ?? String(e);
}
