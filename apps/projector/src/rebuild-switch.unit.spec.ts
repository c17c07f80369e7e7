import { NEAR_THE_END, RebuildSwitch, type RunnerPosition } from './rebuild-switch';

class FakeRunner implements RunnerPosition {
  failed = false;
  lag = 0;
  publishing = false;
  constructor(private offsets: Record<number, number>) {}
  at(offsets: Record<number, number>): this {
    this.offsets = offsets;
    return this;
  }
  appliedOffsets = () => new Map(Object.entries(this.offsets).map(([p, o]) => [Number(p), String(o)]));
  lagEvents = async () => this.lag;
  startPublishing = () => void (this.publishing = true);
}

describe('RebuildSwitch: when a rebuilt version may take over', () => {
  it('waits, silent, while the rebuild is far from the end of the log', async () => {
    const serving = new FakeRunner({ 0: 5000, 1: 5000 });
    const rebuild = new FakeRunner({ 0: 10, 1: 0 });
    rebuild.lag = NEAR_THE_END + 1;
    const step = await new RebuildSwitch(serving, rebuild).advance();
    expect(step).toBe('wait');
    expect(rebuild.publishing).toBe(false);
  });

  it('starts publishing near the end, then switches only once it has everything the serving version has', async () => {
    const serving = new FakeRunner({ 0: 100, 1: 100 });
    const rebuild = new FakeRunner({ 0: 90, 1: 100 });
    const sw = new RebuildSwitch(serving, rebuild);
    expect(await sw.advance()).toBe('wait'); // behind on partition 0
    expect(rebuild.publishing).toBe(true);
    rebuild.at({ 0: 100, 1: 101 });
    expect(await sw.advance()).toBe('switch');
  });

  it('waits for the serving version to announce what the rebuild applied before it started publishing', async () => {
    const serving = new FakeRunner({ 0: 50, 1: 50 });
    const rebuild = new FakeRunner({ 0: 80, 1: 80 }); // ahead: offsets 50..79 were applied silently
    const sw = new RebuildSwitch(serving, rebuild);
    expect(await sw.advance()).toBe('wait');
    serving.at({ 0: 80, 1: 79 });
    expect(await sw.advance()).toBe('wait');
    serving.at({ 0: 80, 1: 80 });
    expect(await sw.advance()).toBe('switch');
  });

  it('does not wait for a FAILED serving version', async () => {
    const serving = new FakeRunner({ 0: 10 });
    serving.failed = true;
    const rebuild = new FakeRunner({ 0: 5 });
    expect(await new RebuildSwitch(serving, rebuild).advance()).toBe('switch');
  });
});
