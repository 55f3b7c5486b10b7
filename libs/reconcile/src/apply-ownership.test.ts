import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { managedFieldsForApply } from './apply-ownership.ts';

const entry = (
  manager: string,
  operation: 'Apply' | 'Update',
  fieldsV1: object,
  extra: Partial<V1ManagedFieldsEntry> = {},
): V1ManagedFieldsEntry => ({
  manager,
  operation,
  apiVersion: 'v1',
  fieldsType: 'FieldsV1',
  fieldsV1,
  ...extra,
});

describe('managedFieldsForApply', () => {
  it('leaves alone entries it has nothing to move from', () => {
    expect(managedFieldsForApply(undefined, 'kok')).toBeUndefined();
    expect(managedFieldsForApply([entry('kok', 'Apply', { 'f:data': {} })], 'kok')).toBeUndefined();
    expect(managedFieldsForApply([entry('kubectl', 'Update', { 'f:data': {} })], 'kok')).toBeUndefined();
    // A status write is its own subresource's business.
    expect(
      managedFieldsForApply([entry('kok', 'Update', {}, { subresource: 'status' })], 'kok'),
    ).toBeUndefined();
  });

  it("turns the manager's create into its apply when it has applied nothing yet", () => {
    const created = entry(
      'kok',
      'Update',
      { 'f:data': { 'f:a': {} } },
      { time: new Date('2026-01-01T00:00:00Z') },
    );
    expect(managedFieldsForApply([created], 'kok')).toEqual([{ ...created, operation: 'Apply' }]);
  });

  it("merges its updates into its apply entry, where that entry stands, and keeps everyone else's", () => {
    const other = entry('kubectl', 'Update', { 'f:data': { 'f:theirs': {} } });
    const applied = entry('kok', 'Apply', {
      'f:data': { 'f:a': {} },
      'f:metadata': { 'f:labels': { 'f:x': {} } },
    });
    const created = entry('kok', 'Update', { 'f:data': { 'f:a': {}, 'f:b': {} } });
    const status = entry('kok', 'Update', { 'f:status': {} }, { subresource: 'status' });
    expect(managedFieldsForApply([created, other, applied, status], 'kok')).toEqual([
      other,
      {
        ...applied,
        fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:x': {} } } },
      },
      status,
    ]);
  });

  it('leaves an update of another API version where it is: its paths need not match', () => {
    const applied = entry('kok', 'Apply', { 'f:spec': {} }, { apiVersion: 'apps/v1' });
    const older = entry('kok', 'Update', { 'f:spec': { 'f:old': {} } }, { apiVersion: 'apps/v1beta2' });
    expect(managedFieldsForApply([applied, older], 'kok')).toBeUndefined();
    // With no apply entry, the first update's version is the one merged into.
    const current = entry('kok', 'Update', { 'f:spec': { 'f:a': {} } }, { apiVersion: 'apps/v1' });
    expect(managedFieldsForApply([current, older], 'kok')).toEqual([
      { ...current, operation: 'Apply' },
      older,
    ]);
  });
});
