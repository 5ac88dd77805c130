// Login rate limiting of one server process: failed attempts per account and
// per client address inside a sliding time window, held in memory. The SQLite
// store uses it (one process owns an SQLite file); the PostgreSQL store keeps
// the same windows in a table so every instance counts the same attempts.

// Failed attempts per key inside a sliding time window.
export class SlidingWindowLimiter {
  constructor(limit, windowMs) {
    this.limit = Number.isFinite(limit) && limit > 0 ? limit : Infinity;
    this.windowMs = windowMs;
    this.hits = new Map();
  }

  #live(key, now) {
    const list = this.hits.get(key);
    if (!list) return [];
    while (list.length && list[0] <= now - this.windowMs) list.shift();
    if (!list.length) this.hits.delete(key);
    return list;
  }

  // Seconds until one more attempt is allowed; 0 when allowed now.
  retryAfterSec(key, now) {
    return retryAfterSec(this.#live(key, now), this.limit, this.windowMs, now);
  }

  add(key, now) {
    if (this.limit === Infinity) return;
    const list = this.hits.get(key);
    if (list) list.push(now);
    else this.hits.set(key, [now]);
  }

  removeOne(key, at) {
    const list = this.hits.get(key);
    const i = list ? list.lastIndexOf(at) : -1;
    if (i >= 0) list.splice(i, 1);
    if (list && !list.length) this.hits.delete(key);
  }

  reset(key) {
    this.hits.delete(key);
  }

  sweep(now) {
    for (const key of [...this.hits.keys()]) this.#live(key, now);
  }
}

// Seconds until one more attempt is allowed, given the attempt times (ms,
// ascending) still inside the window; 0 when allowed now.
export function retryAfterSec(times, limit, windowMs, now) {
  if (times.length < limit) return 0;
  const freesAt = times[times.length - limit] + windowMs;
  return Math.max(1, Math.ceil((freesAt - now) / 1000));
}

// The limiter interface both stores give the server (every method async):
//   begin(account, address, now) -> seconds to wait; 0 = allowed, and then the
//     attempt is counted for both keys before the (slow) password check, so
//     concurrent attempts cannot overrun the limit;
//   succeeded(account, address, at) -> forgets the account's failures and the
//     address's attempt made at `at`;
//   sweep(now) -> drops attempts that left the window.
export function memoryLoginLimiter({ perAccount, perAddress, windowMs }) {
  const accounts = new SlidingWindowLimiter(perAccount, windowMs);
  const addresses = new SlidingWindowLimiter(perAddress, windowMs);
  return {
    async begin(account, address, now) {
      const wait = Math.max(accounts.retryAfterSec(account, now), addresses.retryAfterSec(address, now));
      if (wait > 0) return wait;
      accounts.add(account, now);
      addresses.add(address, now);
      return 0;
    },
    async succeeded(account, address, at) {
      accounts.reset(account);
      addresses.removeOne(address, at);
    },
    async sweep(now) {
      accounts.sweep(now);
      addresses.sweep(now);
    },
  };
}
