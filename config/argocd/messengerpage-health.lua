-- Argo CD health for messenger.handover.dev/MessengerPage (Argo CD gives custom resources no health
-- of its own). Healthy when Ready is True for the current generation; Degraded when Stalled or when
-- the Graph API refuses the page token; Progressing otherwise.
local hs = {status = "Progressing", message = "Waiting for the operator"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.status.observedGeneration == nil or obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end
local ready, stalled, graph
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then ready = c end
  if c.type == "Stalled" then stalled = c end
  if c.type == "GraphAuthorized" then graph = c end
end
if stalled ~= nil and stalled.status == "True" then
  return {status = "Degraded", message = (stalled.reason or "") .. ": " .. (stalled.message or "")}
end
if graph ~= nil and graph.status == "False" then
  return {status = "Degraded", message = (graph.reason or "") .. ": " .. (graph.message or "")}
end
if ready ~= nil and ready.status == "True" then
  return {status = "Healthy", message = ready.message or ""}
end
if ready ~= nil then
  hs.message = (ready.reason or "") .. ": " .. (ready.message or "")
end
return hs
