-- Core schema: placeholder until the control-plane tables land.
SELECT 1;
