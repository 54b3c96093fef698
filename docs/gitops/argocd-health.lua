-- Argo CD health check for Clusterforge's kinds (Cluster, ControlPlane, MachineDeployment, Machine).
-- Install it in argocd-cm (see docs/gitops/README.md):
--   resource.customizations.health.clusterforge.dev_Cluster: |
--     <this file>
-- Written for Argo CD's interpreter (gopher-lua, the Lua 5.1 language); tested with lua5.1.
--
--   Healthy      the Ready condition is True and status.observedGeneration is the current generation
--   Degraded     the cluster is Failed (status.phase), or Stalled=True (only a person can move it on),
--                for the current generation; the message says why
--   Suspended    reconciliation is paused (spec.paused or the clusterforge.dev/paused annotation)
--   Progressing  everything else: no status yet, a generation not yet observed, provisioning,
--                upgrading, scaling, deleting; the message is the Ready condition's when it has one
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }

local generation = obj.metadata.generation
local function observes(n)
  return generation == nil or (n ~= nil and n >= generation)
end

local status = obj.status
if status == nil then
  return hs
end

local conditions = {}
if status.conditions ~= nil then
  for _, c in ipairs(status.conditions) do
    conditions[c.type] = c
  end
end
local ready = conditions["Ready"]
local stalled = conditions["Stalled"]

-- A condition written for this generation (or by a writer that does not say which).
local function current(c)
  return c ~= nil and (c.observedGeneration == nil or observes(c.observedGeneration))
end

local function describe(c)
  if c == nil then
    return ""
  end
  local text = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Deleting"
  if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
    hs.message = "Deleting: " .. ready.message
  end
  return hs
end

if status.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = "Reconciliation is paused"
  return hs
end

if status.phase == "Failed" and ready ~= nil and observes(ready.observedGeneration) then
  hs.status = "Degraded"
  if status.failureReason ~= nil then
    hs.message = status.failureReason .. ": " .. (status.failureMessage or "")
  else
    hs.message = describe(ready)
  end
  return hs
end

if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

if not observes(status.observedGeneration) then
  -- The operator may have looked and said why it waits before it could finish a reconcile.
  if current(ready) and describe(ready) ~= "" then
    hs.message = describe(ready)
  else
    hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  end
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = status.phase or "Ready"
  return hs
end

if ready ~= nil then
  hs.message = describe(ready)
end
if status.phase ~= nil then
  hs.message = status.phase .. ": " .. hs.message
end
return hs
