import { composeChainAtRiskMail, span } from '../../src/chains/chain-mail';

describe('the chain_at_risk mail', () => {
  const mail = (slackSeconds: number) =>
    composeChainAtRiskMail({
      sinkId: 'd0000000-0000-4000-8000-000000000001',
      sinkTitle: 'Deliver order 1042',
      promise: { customer: 'Sales', dueAt: Date.parse('2026-12-01T15:00:00Z'), externalRef: 'ORDER-1042' },
      bottleneck: { id: 'r0000000-0000-4000-8000-000000000001', title: 'Roses for order 1042', department: 'Purchasing' },
      hops: [
        {
          id: 'r0000000-0000-4000-8000-000000000001',
          title: 'Roses for order 1042',
          status: 'open',
          department: 'Purchasing',
          projectedFinishAt: Date.parse('2026-12-01T14:00:00Z'),
          latestFinishAt: Date.parse('2026-12-01T13:59:30Z'),
          slackSeconds,
          isBottleneck: true,
        },
      ],
      slackSeconds,
      timezone: 'Europe/Amsterdam',
      publicUrl: 'http://localhost:3000',
    });

  it('says how short the chain is in the unit a person would use, never "0 min"', () => {
    expect(mail(-30).text).toContain('Chain at risk — 30 s short of its deadline');
    expect(mail(-30).text).toContain('slack −30 s');
    expect(mail(-1500).text).toContain('25 min short');
    expect(mail(-5400).text).toContain('1 h 30 min short');
    expect(mail(-5400).html).toContain('1 h 30 min short if nothing changes');
  });

  it('draws the chain with the bottleneck marked, in the provider zone', () => {
    const { text, headers } = mail(-30);
    expect(text).toMatch(/>> Purchasing\s+Roses for order 1042/);
    expect(text).toContain('Tue 1 Dec 15:00'); // 14:00 UTC in Amsterdam
    expect(headers).toEqual({ 'X-Handoff-Request': 'd0000000-0000-4000-8000-000000000001', 'X-Handoff-Escalation': 'chain_at_risk' });
  });

  it('rounds durations sensibly', () => {
    expect([span(0), span(59), span(60), span(89), span(3599), span(3600), span(7260), span(-45)]).toEqual([
      '0 s', '59 s', '1 min', '1 min', '1 h', '1 h', '2 h 1 min', '45 s',
    ]);
  });
});
