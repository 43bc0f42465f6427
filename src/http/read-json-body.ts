import type { IncomingMessage } from 'node:http';

/** A request we refuse before looking at its content; the edge turns it into this status and message. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly problems?: string[];
  constructor(status: number, message: string, problems?: string[]) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

/** Reads and parses a JSON body, refusing (413) as soon as it grows past `limitBytes` rather than buffering it all. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'send the body as JSON with Content-Type: application/json');
  const text = await readRawBody(req, limitBytes, tooLarge(limitBytes));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The body as UTF-8 text, exactly as sent (signatures cover these bytes); `tooLarge` (413) as soon as it passes the limit. */
export async function readRawBody(req: IncomingMessage, limitBytes: number, tooLarge: HttpError): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      req.resume(); // drain the rest so the connection can answer
      throw tooLarge;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const tooLarge = (limitBytes: number) =>
  new HttpError(413, `the body is larger than ${Math.round(limitBytes / 1024 / 1024)} MB; send smaller batches (at most 1,000 items per request)`);
