// Conformance script: drives the official WorkOS Node SDK against a running
// sandbox and prints one JSON object with what the SDK saw. The Go test
// internal/dirsync/sandbox/conformance_test.go starts the sandbox, runs
// this script and checks the output against the sandbox's state.
//
// Env: SANDBOX_PORT, SANDBOX_API_KEY, WEBHOOK_SECRET, WEBHOOK_FILE (JSON
// array of {body, signature} captured by the Go test), ENTRA_DIRECTORY,
// GROUP_ID (a group of that directory with members).
import { readFileSync } from 'node:fs';
import {
  WorkOS,
  NotFoundException,
  UnauthorizedException,
} from '../npm/node_modules/@workos-inc/node/lib/index.mjs';

const port = Number(process.env.SANDBOX_PORT);
const key = process.env.SANDBOX_API_KEY;
const workos = new WorkOS(key, { apiHostname: '127.0.0.1', https: false, port });
const out = {};

async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (err) {
    out[name] = { error: String(err && err.stack ? err.stack : err) };
  }
}

function errorInfo(err) {
  return {
    name: err?.constructor?.name,
    isNotFound: err instanceof NotFoundException,
    isUnauthorized: err instanceof UnauthorizedException,
    status: err?.status,
    message: err?.message,
  };
}

await step('directories', async () => {
  const list = await workos.directorySync.listDirectories();
  return list.data.map((d) => ({ id: d.id, name: d.name, type: d.type, state: d.state, organizationId: d.organizationId }));
});

await step('directory', async () => {
  const first = out.directories[0];
  const d = await workos.directorySync.getDirectory(first.id);
  return { id: d.id, name: d.name, state: d.state, domain: d.domain, createdAt: d.createdAt };
});

const entra = process.env.ENTRA_DIRECTORY;

await step('entraUsers', async () => {
  const users = await (await workos.directorySync.listUsers({ directory: entra })).autoPagination();
  const ids = users.map((u) => u.id);
  return { count: ids.length, unique: new Set(ids).size, ids };
});

await step('firstGroupUsers', async () => {
  const groups = await workos.directorySync.listGroups({ directory: entra, limit: 100 });
  const group = groups.data.find((g) => g.id === process.env.GROUP_ID);
  const users = await (await workos.directorySync.listUsers({ group: group.id })).autoPagination();
  return { groupId: group.id, ids: users.map((u) => u.id) };
});

await step('userGroups', async () => {
  const userId = out.firstGroupUsers.ids[0];
  const groups = await (await workos.directorySync.listGroups({ user: userId })).autoPagination();
  return { userId, ids: groups.map((g) => g.id) };
});

await step('user', async () => {
  const u = await workos.directorySync.getUser(out.firstGroupUsers.ids[0]);
  return {
    id: u.id, email: u.email, firstName: u.firstName, state: u.state,
    customAttributes: u.customAttributes, groups: u.groups, directoryId: u.directoryId,
  };
});

await step('group', async () => {
  const g = await workos.directorySync.getGroup(out.firstGroupUsers.groupId);
  return { id: g.id, name: g.name, directoryId: g.directoryId };
});

await step('notFound', async () => {
  const res = {};
  for (const [name, call] of [
    ['user', () => workos.directorySync.getUser('directory_user_does_not_exist')],
    ['group', () => workos.directorySync.getGroup('directory_group_does_not_exist')],
    ['directory', () => workos.directorySync.getDirectory('directory_does_not_exist')],
  ]) {
    try {
      await call();
      res[name] = { name: 'no error' };
    } catch (err) {
      res[name] = errorInfo(err);
    }
  }
  return res;
});

await step('unauthorized', async () => {
  const bad = new WorkOS('sk_test_wrong', { apiHostname: '127.0.0.1', https: false, port });
  try {
    await bad.directorySync.listDirectories();
    return { name: 'no error' };
  } catch (err) {
    return errorInfo(err);
  }
});

await step('events', async () => {
  const ids = [];
  let after;
  let pages = 0;
  for (;;) {
    const page = await workos.events.listEvents({ events: ['dsync.user.created', 'dsync.group.created'], limit: 100, after });
    pages++;
    for (const e of page.data) ids.push(e.id);
    after = page.listMetadata.after;
    if (!after || page.data.length === 0) break;
  }
  return { pages, count: ids.length, unique: new Set(ids).size, sorted: ids.every((id, i) => i === 0 || ids[i - 1] < id) };
});

await step('webhooks', async () => {
  const deliveries = JSON.parse(readFileSync(process.env.WEBHOOK_FILE, 'utf8'));
  const res = [];
  for (const d of deliveries) {
    try {
      const ev = await workos.webhooks.constructEvent({
        payload: JSON.parse(d.body),
        sigHeader: d.signature,
        secret: process.env.WEBHOOK_SECRET,
      });
      res.push({ ok: true, id: ev.id, event: ev.event, jobTitle: ev.data?.customAttributes?.job_title ?? ev.data?.user?.customAttributes?.job_title });
    } catch (err) {
      res.push({ ok: false, error: String(err) });
    }
  }
  // A tampered body must be refused.
  try {
    const d = deliveries[0];
    const payload = JSON.parse(d.body);
    payload.id = payload.id + 'x';
    await workos.webhooks.constructEvent({ payload, sigHeader: d.signature, secret: process.env.WEBHOOK_SECRET });
    res.push({ tamperedAccepted: true });
  } catch {
    res.push({ tamperedAccepted: false });
  }
  return res;
});

if (process.env.CONFORMANCE_ORGS === '1') {
  await step('organizations', async () => {
    const created = await workos.organizations.createOrganization({
      name: 'Conformance Co',
      domainData: [{ domain: 'conformance.example', state: 'verified' }],
    });
    const fetched = await workos.organizations.getOrganization(created.id);
    const updated = await workos.organizations.updateOrganization({ organization: created.id, name: 'Conformance Company' });
    const all = await (await workos.organizations.listOrganizations()).autoPagination();
    const byDomain = await workos.organizations.listOrganizations({ domains: ['conformance.example'] });
    let missing;
    try {
      await workos.organizations.getOrganization('org_does_not_exist');
      missing = { name: 'no error' };
    } catch (err) {
      missing = errorInfo(err);
    }
    return {
      id: created.id,
      name: created.name,
      domains: created.domains.map((d) => ({ domain: d.domain, state: d.state })),
      fetchedName: fetched.name,
      updatedName: updated.name,
      listedIds: all.map((o) => o.id),
      byDomain: byDomain.data.map((o) => o.id),
      missing,
    };
  });

  await step('portal', async () => {
    const { link } = await workos.portal.generateLink({
      organization: out.organizations.id,
      intent: 'dsync',
      returnUrl: 'http://127.0.0.1/return',
      successUrl: 'http://127.0.0.1/success',
    });
    let unknownOrg;
    try {
      await workos.portal.generateLink({ organization: 'org_does_not_exist', intent: 'dsync' });
      unknownOrg = { name: 'no error' };
    } catch (err) {
      unknownOrg = errorInfo(err);
    }
    return { link, unknownOrg };
  });
}

process.stdout.write(JSON.stringify(out));
