import { AppConfig } from '../../src/common/app-config';

const base = { NODE_ENV: 'development' };

describe('PUBLIC_URL, the base of links in mail', () => {
  it('is this host on PORT when unset: the SPEC default on the default port, and still right when PORT moves', () => {
    expect(AppConfig.fromEnvironment(base).publicUrl).toBe('http://localhost:3000');
    expect(AppConfig.fromEnvironment({ ...base, PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(AppConfig.fromEnvironment({ ...base, PORT: '8080', PUBLIC_URL: '' }).publicUrl).toBe('http://localhost:8080');
  });

  it('is taken as given when set, without a trailing slash', () => {
    expect(AppConfig.fromEnvironment({ ...base, PORT: '8080', PUBLIC_URL: 'https://handoff.flowers.example/' }).publicUrl).toBe(
      'https://handoff.flowers.example',
    );
  });

  it('refuses what is not an http(s) URL, naming the variable', () => {
    expect(() => AppConfig.fromEnvironment({ ...base, PUBLIC_URL: 'handoff.flowers.example' })).toThrow(/PUBLIC_URL/);
  });
});
