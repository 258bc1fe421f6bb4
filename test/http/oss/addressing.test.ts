// Bucket/key resolution (spec 1.3–1.4); the naming rules are tested in test/storage/names.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { throwsMedley } from '../../support/assert-error.js';
import { resolveAddress, type Address } from '../../../src/http/oss/addressing.js';

const rejects = (fn: () => unknown, code: string, message?: RegExp): void => void throwsMedley(fn, code, message);

describe('resolveAddress', () => {
  const cases: Array<[string, string | undefined, string, Address]> = [
    // [name, Host, raw path, expected] — domain is 'localhost' unless the name says otherwise.
    ['virtual-hosted on the configured domain', 'examplebucket.localhost', '/a.mp4', { style: 'virtual-hosted', bucket: 'examplebucket', key: 'a.mp4' }],
    ['virtual-hosted with port and upper case', 'ExampleBucket.LocalHost:9000', '/dir/a.mp4', { style: 'virtual-hosted', bucket: 'examplebucket', key: 'dir/a.mp4' }],
    ['virtual-hosted bucket level', 'examplebucket.localhost:9000', '/', { style: 'virtual-hosted', bucket: 'examplebucket' }],
    ['virtual-hosted empty path', 'examplebucket.localhost', '', { style: 'virtual-hosted', bucket: 'examplebucket' }],
    ['virtual-hosted trailing dot in Host', 'examplebucket.localhost.', '/k', { style: 'virtual-hosted', bucket: 'examplebucket', key: 'k' }],
    ['two labels above the domain are not a bucket host', 'a.b.localhost', '/b/k', { style: 'path', bucket: 'b', key: 'k' }],
    ['ali-oss IP endpoint (aliyuncs Host)', 'examplebucket.oss-cn-hangzhou.aliyuncs.com', '/src1.mp3', { style: 'virtual-hosted', bucket: 'examplebucket', key: 'src1.mp3' }],
    ['aliyuncs Host with port', 'examplebucket.oss-cn-hangzhou.aliyuncs.com:46007', '/src1.mp3', { style: 'virtual-hosted', bucket: 'examplebucket', key: 'src1.mp3' }],
    ['aliyuncs internal endpoint', 'my-bucket.oss-cn-shanghai-internal.aliyuncs.com', '/', { style: 'virtual-hosted', bucket: 'my-bucket' }],
    ['aliyuncs Host with legacy "_" bucket', 'old_bucket.oss-cn-hangzhou.aliyuncs.com', '/k', { style: 'virtual-hosted', bucket: 'old_bucket', key: 'k' }],
    ['bare aliyuncs service endpoint is not a bucket', 'oss-cn-hangzhou.aliyuncs.com', '/', { style: 'service' }],
    ['path style on an IP', '127.0.0.1:32915', '/examplebucket/src1.mp3', { style: 'path', bucket: 'examplebucket', key: 'src1.mp3' }],
    ['path style on the bare domain', 'localhost:46007', '/examplebucket/dir/a.mp4', { style: 'path', bucket: 'examplebucket', key: 'dir/a.mp4' }],
    ['path style bucket level', 'localhost', '/examplebucket', { style: 'path', bucket: 'examplebucket' }],
    ['path style bucket level, trailing slash (Go v2)', 'localhost', '/examplebucket/', { style: 'path', bucket: 'examplebucket' }],
    ['service level', 'localhost:9000', '/', { style: 'service' }],
    ['service level, no Host', undefined, '/', { style: 'service' }],
    ['no Host falls back to path style', undefined, '/b/k', { style: 'path', bucket: 'b', key: 'k' }],
    ['IPv6 literal Host', '[::1]:9000', '/b/k', { style: 'path', bucket: 'b', key: 'k' }],
    ['%2F in the key becomes "/" (oss2 quotes with safe="")', 'localhost', '/b/dir%2Fa.mp4', { style: 'path', bucket: 'b', key: 'dir/a.mp4' }],
    ['%2F never moves the bucket boundary', 'localhost', '/b%2Fx/k', { style: 'path', bucket: 'b/x', key: 'k' }],
    ['a literal "+" in the path stays a plus', 'localhost', '/b/a+b.txt', { style: 'path', bucket: 'b', key: 'a+b.txt' }],
    ['%2B is a plus too, %20 a space', 'b.localhost', '/a%2Bb%20c', { style: 'virtual-hosted', bucket: 'b', key: 'a+b c' }],
    ['UTF-8 key', 'b.localhost', '/%E4%B8%AD%E6%96%87/%F0%9F%8E%B5.mp3', { style: 'virtual-hosted', bucket: 'b', key: '中文/🎵.mp3' }],
    ['key with a leading slash is returned for the validator to refuse', 'b.localhost', '//k', { style: 'virtual-hosted', bucket: 'b', key: '/k' }],
    ['key that is only a slash', 'localhost', '/b//', { style: 'path', bucket: 'b', key: '/' }],
    ['reserved /-/ paths do not crash', 'localhost', '/-/health', { style: 'path', bucket: '-', key: 'health' }],
  ];
  for (const [name, host, rawPath, expected] of cases) {
    test(name, () => assert.deepEqual(resolveAddress({ host, rawPath, domain: 'localhost' }), expected));
  }

  test('configured domain with several labels and its own port', () => {
    assert.deepEqual(resolveAddress({ host: 'media.oss.example.com:8443', rawPath: '/x', domain: 'oss.example.com:8443' }), { style: 'virtual-hosted', bucket: 'media', key: 'x' });
    assert.deepEqual(resolveAddress({ host: 'oss.example.com', rawPath: '/media/x', domain: 'oss.example.com' }), { style: 'path', bucket: 'media', key: 'x' });
  });

  const badEscapes: Array<[string | undefined, string, string]> = [
    ['b.localhost', '/bad%zz', 'InvalidObjectName'],
    ['b.localhost', '/trunc%E4%B8', 'InvalidObjectName'],
    ['localhost', '/b/%', 'InvalidObjectName'],
    ['localhost', '/b/%FF', 'InvalidObjectName'],
    ['localhost', '/b%ZZ/k', 'InvalidBucketName'],
  ];
  for (const [host, rawPath, code] of badEscapes) {
    test(`malformed escape ${rawPath} → ${code}`, () => rejects(() => resolveAddress({ host, rawPath, domain: 'localhost' }), code, /percent-encoding/));
  }
});
