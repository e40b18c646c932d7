// One model per partition: each mini-batch holds every week of one (Store, Brand). The script
// fits a least-squares line of quantity over week and forecasts the next 4 weeks.
export function run(weeks, ctx) {
  const { Store, Brand } = ctx.partitionKeyValue;
  const n = weeks.length;
  const meanX = weeks.reduce((sum, row) => sum + row.week, 0) / n;
  const meanY = weeks.reduce((sum, row) => sum + row.quantity, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const row of weeks) {
    covariance += (row.week - meanX) * (row.quantity - meanY);
    variance += (row.week - meanX) ** 2;
  }
  const slope = variance === 0 ? 0 : covariance / variance;
  const intercept = meanY - slope * meanX;
  const lastWeek = Math.max(...weeks.map((row) => row.week));
  const forecast = [1, 2, 3, 4].map((ahead) => Math.round(intercept + slope * (lastWeek + ahead)));
  ctx.logger.debug(`${Store}/${Brand}: ${n} weeks, slope ${slope.toFixed(2)}`);
  // A partitioned mini-batch is one item (the partition): one returned row means it succeeded.
  return [{ store: Store, brand: Brand, weeks: n, slope: Math.round(slope * 100) / 100, next_4_weeks: forecast.join(' ') }];
}
