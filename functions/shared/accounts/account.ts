/** An account of the deployment (docs/api.md §1): it sends events and owns loops. */
export interface AccountRecord {
  id: string;
  name: string;
  createdAt: string;
  /** How many loops it has, kept with every create and delete so the limit holds under concurrency. */
  loopCount: number;
}

/** What the hash of an API key resolves to; the key itself is never stored. */
export interface ApiKeyRecord {
  keyId: string;
  accountId: string;
  createdAt: string;
}
