-- Argo CD health for messenger.handover.dev/HandoverPolicy: Healthy when Ready is True for the
-- current generation, Degraded when the policy is invalid (a bad pattern or time zone).
local hs = {status = "Progressing", message = "Waiting for the operator"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.status.observedGeneration == nil or obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    if c.status == "True" then
      return {status = "Healthy", message = c.message or ""}
    end
    if c.status == "False" then
      return {status = "Degraded", message = (c.reason or "") .. ": " .. (c.message or "")}
    end
  end
end
return hs
