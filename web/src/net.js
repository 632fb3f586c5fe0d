// REST calls and the observatory WebSocket (`aion.observatory.v1`, docs/observatory.md).

/** Calls the REST API; throws an Error carrying the server's message on a non-2xx answer. */
export async function api(method, path, token, body) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const msg = (json && (json.message || json.error)) || `${res.status} ${res.statusText}`;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return json;
}

/** Close codes after which reconnecting cannot help. */
const FATAL = new Set([4400, 4401, 4403, 4404, 4409, 4413]);

/**
 * One observatory connection that reconnects by itself and resumes from the last (epoch, seq)
 * it processed. `handlers` gets `onHello`, `onSnapshot`, `onReplay`, `onDelta`, `onAck`,
 * `onError`, `onState` (connection state text) and `onFatal`.
 */
export class Observatory {
  constructor(session, token, topics, handlers) {
    this.session = session;
    this.token = token;
    this.topics = topics;
    this.h = handlers;
    this.epoch = null;
    this.seq = null;
    this.ws = null;
    this.closed = false;
    this.retry = 0;
    this.pingTimer = null;
    this.nextId = 1;
    this.connect();
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${proto}://${location.host}/api/v1/sessions/${this.session}/ws?token=${encodeURIComponent(this.token)}`;
    const ws = new WebSocket(url, 'aion.observatory.v1');
    this.ws = ws;
    this.h.onState?.('connecting');
    ws.onmessage = (e) => this.frame(JSON.parse(e.data));
    ws.onclose = (e) => {
      clearInterval(this.pingTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      if (FATAL.has(e.code)) {
        this.h.onState?.(`closed (${e.code})`);
        this.h.onFatal?.(e.code, e.reason);
        return;
      }
      this.retry = Math.min(this.retry + 1, 6);
      const wait = 250 * 2 ** this.retry;
      this.h.onState?.(`reconnecting in ${(wait / 1000).toFixed(1)} s`);
      setTimeout(() => !this.closed && this.connect(), wait);
    };
  }

  frame(f) {
    switch (f.type) {
      case 'hello': {
        this.retry = 0;
        const resume = this.epoch === f.epoch && this.seq !== null ? { epoch: this.epoch, seq: this.seq } : undefined;
        if (this.epoch !== null && this.epoch !== f.epoch) this.seq = null;
        this.send({ type: 'subscribe', topics: this.topics, ...(resume ? { resume } : {}) });
        const hb = f.payload.heartbeat_ms || 15000;
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send({ type: 'ping', t: Date.now() }), hb / 2);
        this.h.onState?.('live');
        this.h.onHello?.(f);
        break;
      }
      case 'snapshot':
        this.epoch = f.epoch;
        this.seq = f.seq;
        this.h.onSnapshot?.(f);
        break;
      case 'replay':
        this.epoch = f.epoch;
        this.h.onReplay?.(f);
        break;
      case 'delta':
        this.epoch = f.epoch;
        this.seq = f.seq;
        this.h.onDelta?.(f);
        break;
      case 'ack':
        this.h.onAck?.(f.payload);
        break;
      case 'error':
        this.h.onError?.(f.payload);
        break;
      default:
        break;
    }
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  /** Replaces the topics (a fresh snapshot follows). */
  setTopics(topics) {
    this.topics = topics;
    this.send({ type: 'topics', topics });
  }

  /** Sends a `command` or `control` with a fresh idempotency key; returns the key. */
  request(type, body) {
    const id = `${type[0]}${Date.now().toString(36)}-${this.nextId++}`;
    this.send({ type, id, ...body });
    return id;
  }

  close() {
    this.closed = true;
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}
