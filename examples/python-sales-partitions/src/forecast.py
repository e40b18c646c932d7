# A tabular, partitioned entry script as written for the reference (the "many models"
# pattern): mini_batch is a pandas DataFrame with every week of one (Store, Brand), and
# mini_batch_context.partition_key_value says which. Needs pandas (Debian: python3-pandas).
import argparse
import logging

import pandas as pd

horizon = 4


def init():
    global horizon
    parser = argparse.ArgumentParser()
    parser.add_argument("--horizon", type=int, default=4)
    args, _ = parser.parse_known_args()
    horizon = args.horizon


def run(mini_batch, mini_batch_context):
    key = mini_batch_context.partition_key_value
    weeks = mini_batch.sort_values("week")
    x = weeks["week"].astype(float)
    y = weeks["quantity"].astype(float)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / max(((x - x.mean()) ** 2).sum(), 1e-9)
    intercept = y.mean() - slope * x.mean()
    last = int(x.max())
    forecast = [round(intercept + slope * (last + h)) for h in range(1, horizon + 1)]
    logging.info("%s/%s: slope %.2f", key["Store"], key["Brand"], slope)
    return pd.DataFrame([{"store": key["Store"], "brand": key["Brand"], "weeks": len(weeks), "slope": round(slope, 2), "forecast": " ".join(map(str, forecast))}])
