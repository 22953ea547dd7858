import { parseMentions } from './mentions';

describe('parseMentions', () => {
  it('finds user and channel tags with their positions', () => {
    expect(parseMentions('hi <@jane> see <#general>!')).toEqual([
      { type: 'USER', tag: '<@jane>', name: 'jane', startPosition: 3, endPosition: 10 },
      { type: 'CHANNEL', tag: '<#general>', name: 'general', startPosition: 15, endPosition: 25 },
    ]);
  });

  it('ignores text that is not a tag', () => {
    expect(parseMentions('a < @b > <@> <# x> email@x.com')).toEqual([]);
  });
});
