import { celString, celStringList } from './cel';

/**
 * Kubernetes identities, as the API server authenticates them (`request.userInfo`). On EKS an
 * IAM role's username is `arn:aws:sts::<account>:assumed-role/<role name>/<session>`, so a role
 * is best named by that prefix or by the `kubernetesGroups` of its access entry.
 */
export interface AdmissionIdentities {
  /**
   * Exact usernames (e.g. `system:serviceaccount:argocd:argocd-application-controller`).
   * @default - none
   */
  readonly usernames?: string[];
  /**
   * Username prefixes, each ending with `/` or `:` so it cannot match a longer name by accident
   * (e.g. `arn:aws:sts::111122223333:assumed-role/BreakGlass/`).
   * @default - none
   */
  readonly usernamePrefixes?: string[];
  /**
   * Kubernetes groups (an EKS access entry's `kubernetesGroups`).
   * @default - none
   */
  readonly groups?: string[];
}

/** The identities, checked and sorted. @internal */
export interface ResolvedIdentities {
  readonly usernames: string[];
  readonly usernamePrefixes: string[];
  readonly groups: string[];
}

function isToken(value: string): boolean {
  return value.includes('${Token[');
}

/** Checks identities (non-empty names; prefixes end with '/' or ':'), merges and sorts them. @internal */
export function resolveIdentities(owner: string, what: string, ...sources: (AdmissionIdentities | undefined)[]): ResolvedIdentities {
  const collect = (pick: (i: AdmissionIdentities) => string[] | undefined) =>
    [...new Set(sources.flatMap(s => (s ? pick(s) ?? [] : [])))].sort();
  const usernames = collect(i => i.usernames);
  const usernamePrefixes = collect(i => i.usernamePrefixes);
  const groups = collect(i => i.groups);
  for (const value of [...usernames, ...usernamePrefixes, ...groups]) {
    if (value.trim() === '') {
      throw new Error(`${owner}: ${what} contains an empty identity. Fix: name a username, username prefix or group, or leave the list out.`);
    }
  }
  for (const prefix of usernamePrefixes) {
    if (!isToken(prefix) && !prefix.endsWith('/') && !prefix.endsWith(':')) {
      throw new Error(`${owner}: ${what} username prefix "${prefix}" must end with "/" or ":" so it cannot match a longer name `
        + '(e.g. "arn:aws:sts::111122223333:assumed-role/BreakGlass/").');
    }
  }
  return { usernames, usernamePrefixes, groups };
}

/** A CEL expression that is true when the request's user is one of the identities. @internal */
export function identityExpression(identities: ResolvedIdentities): string {
  const terms: string[] = [];
  if (identities.usernames.length > 0) {
    terms.push(`request.userInfo.username in ${celStringList(identities.usernames)}`);
  }
  for (const prefix of identities.usernamePrefixes) {
    terms.push(`request.userInfo.username.startsWith(${celString(prefix)})`);
  }
  if (identities.groups.length > 0) {
    terms.push(`(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ${celStringList(identities.groups)}))`);
  }
  return terms.length === 0 ? 'false' : terms.join(' || ');
}
