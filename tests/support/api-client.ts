import { createApiKey } from '../../src/modules/api-keys/api-keys.ts';
import type { TestApp } from './test-app.ts';

export interface ApiResult {
  status: number;
  headers: Headers;
  json: any;
}

export interface ApiClient {
  readonly key: string;
  post(path: string, body: unknown, options?: { headers?: Record<string, string>; raw?: string }): Promise<ApiResult>;
}

/** A client of our public API holding a fresh key for the given workspace (default: the fake's). */
export async function apiClient(app: TestApp, teamId = app.slack.teamId): Promise<ApiClient> {
  const { key } = await createApiKey(app.nurture.services.sql, { teamId, label: `test-${Math.random().toString(36).slice(2)}`, createdBy: 'U0TESTADMIN' });
  return clientWithKey(app, key);
}

export function clientWithKey(app: TestApp, key: string): ApiClient {
  return {
    key,
    async post(path, body, options = {}) {
      const response = await fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...options.headers },
        body: options.raw ?? JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: response.status, headers: response.headers, json };
    },
  };
}
