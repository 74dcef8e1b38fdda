// Live progress from the server-sent events stream (validation, training, generation).
const handlers = new Set();
let source = null;

export function connect() {
  if (source) return;
  source = new EventSource("/api/v1/events");
  for (const kind of ["validation", "training", "generation"]) {
    source.addEventListener(kind, (message) => {
      const data = JSON.parse(message.data);
      for (const handler of handlers) handler(kind, data);
    });
  }
}

export function disconnect() {
  if (source) source.close();
  source = null;
}

export function on(handler) {
  handlers.add(handler);
  return () => handlers.delete(handler);
}
