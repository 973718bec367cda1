/** One CloudWatch Logs metric-filter pattern on the Kubernetes audit log. */
export interface AuditPattern {
  /** A stable id, also the metric name. */
  readonly id: string;
  /** What it catches. */
  readonly description: string;
  /** The JSON filter pattern (CloudWatch Logs filter and pattern syntax). */
  readonly pattern: string;
}

/** The exceptions of the patterns. */
export interface AuditPatternOptions {
  /** Usernames whose Secret reads are expected. */
  readonly secretReaders: string[];
  /** Usernames whose webhook-configuration writes are expected. */
  readonly webhookWriters: string[];
}

/** CloudWatch Logs rejects filter patterns longer than this. */
const MAX_PATTERN_LENGTH = 1024;
const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

const anyOf = (field: string, values: readonly string[]) => `(${values.map(v => `($.${field} = "${v}")`).join(' || ')})`;
const noneOf = (field: string, values: readonly string[]) => values.map(v => `($.${field} != "${v}")`);
const all = (...terms: string[]) => `{ ${terms.join(' && ')} }`;

/**
 * The audit-log patterns, in JSON filter syntax on the audit event fields `verb`,
 * `objectRef.resource`, `objectRef.subresource`, `user.username` and `responseStatus.code`.
 * Throws when an allow-list entry cannot be quoted or makes a pattern too long.
 */
export function auditLogPatterns(subject: string, options: AuditPatternOptions): AuditPattern[] {
  for (const [field, list] of [['secretReaders', options.secretReaders], ['webhookWriters', options.webhookWriters]] as const) {
    for (const name of list) {
      if (typeof name !== 'string' || name.length === 0 || /["\\\s]/.test(name)) {
        throw new Error(`${subject}: ${field} entries must be Kubernetes usernames without quotes, backslashes or spaces (got ${JSON.stringify(name)}). `
          + "Fix: give the username as the audit log shows it, e.g. 'system:serviceaccount:monitoring:reader' ('*' is a wildcard).");
      }
    }
  }
  const patterns: AuditPattern[] = [
    {
      id: 'SecretReads',
      description: 'get/list/watch of Secrets by an identity outside the expected readers',
      pattern: all('($.objectRef.resource = "secrets")', anyOf('verb', ['get', 'list', 'watch']), ...noneOf('user.username', options.secretReaders)),
    },
    {
      id: 'PodExecAttach',
      description: 'exec or attach into a pod',
      pattern: all('($.objectRef.resource = "pods")', anyOf('objectRef.subresource', ['exec', 'attach'])),
    },
    {
      id: 'RbacChanges',
      description: 'create/update/patch/delete of Roles, RoleBindings, ClusterRoles or ClusterRoleBindings',
      pattern: all(anyOf('objectRef.resource', ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']), anyOf('verb', WRITE_VERBS)),
    },
    {
      id: 'AdmissionChanges',
      description: 'changes to admission webhooks or admission policies by an identity outside the expected writers',
      pattern: all(anyOf('objectRef.resource', [
        'validatingwebhookconfigurations', 'mutatingwebhookconfigurations', 'validatingadmissionpolicies', 'validatingadmissionpolicybindings',
      ]), anyOf('verb', WRITE_VERBS), ...noneOf('user.username', options.webhookWriters)),
    },
    {
      id: 'AnonymousRequests',
      description: 'a request by system:anonymous',
      pattern: all('($.user.username = "system:anonymous")'),
    },
    {
      id: 'ForbiddenRequests',
      description: 'requests answered 401 Unauthorized or 403 Forbidden',
      pattern: '{ ($.responseStatus.code = 401) || ($.responseStatus.code = 403) }',
    },
  ];
  for (const p of patterns.filter(x => x.pattern.length > MAX_PATTERN_LENGTH)) {
    const field = p.id === 'SecretReads' ? 'secretReaders' : 'webhookWriters';
    throw new Error(`${subject}: ${field} makes the ${p.id} filter pattern ${p.pattern.length} characters long (got ${options[field].length} entries), `
      + `over the CloudWatch Logs limit of ${MAX_PATTERN_LENGTH}. Fix: use '*' wildcards, e.g. 'system:serviceaccount:kube-system:*-controller'.`);
  }
  return patterns;
}
