namespace DiffusionApi.Jobs.Redis;

/// <summary>
/// The Lua scripts behind every write of the Redis backend: each runs atomically on the server, so admission, leasing,
/// fencing and the reaper never see each other half done, whichever replica runs them. Every script gets the key
/// prefix as ARGV[1]; the rest of its arguments are listed above it. Keys (see docs/scaling.md, "Redis data model"):
/// <c>P:job:ID</c> hash (the record: state, descriptor, owner, attempt, progress, results, and the lease's stream entry),
/// <c>P:waiting</c> zset (waiting jobs by admission sequence: order, position, the global bound) and, per stream,
/// <c>P:stream:MODEL:waiting</c> (the same jobs of one model, for workers that lease only their model), the position
/// counters <c>P:seq</c>, <c>P:left</c> and <c>P:stale</c>, <c>P:leased</c> set,
/// <c>P:stream:MODEL</c> stream with group <c>workers</c> (one entry per job, never deleted before it is delivered),
/// <c>P:streams</c> set of those streams, <c>P:idem:KEY</c>, <c>P:gone:ID</c>, <c>P:dead</c> dead-letter stream, and the
/// channels <c>P:wake</c> and <c>P:events:ID</c>.
/// </summary>
internal static class RedisJobScripts
{
    /// <summary>Helpers shared by the scripts (Lua has no imports: each script is this text plus its own body).</summary>
    private const string Common = """
        local P = ARGV[1]
        local GROUP = 'workers'
        local PARK = '~queue'
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function jkey(id) return P .. ':job:' .. id end
        -- The waiting jobs of one model's stream (a subset of P:waiting, kept in step with it).
        local function wkey(stream) return stream .. ':waiting' end
        local function is_final(s) return s == 'Succeeded' or s == 'Failed' or s == 'Cancelled' end
        local function counts()
          return tostring(redis.call('ZCARD', P .. ':waiting')), tostring(redis.call('SCARD', P .. ':leased'))
        end
        local function held(id, owner, attempt)
          local st, o, a = unpack(redis.call('HMGET', jkey(id), 'state', 'owner', 'attempt'))
          return st == 'Running' and o == owner and a == attempt
        end
        -- Queue positions by counting (the Position script): P:seq counts admissions, P:left the jobs that left P:waiting
        -- (net of those that came back). While every job that left was older than a waiting job, that job's position is
        -- its seq minus P:left, O(1). A job that leaves from behind an older waiting one (a batch member, a cancel, another
        -- model's lease) or comes back raises P:stale to its seq: positions up to there are the set's rank instead.
        local function ensure_counters()
          if redis.call('EXISTS', P .. ':left') == 0 then
            -- First use on this Redis (or after an upgrade): the jobs waiting now are ranked; later ones counted.
            local seq = tonumber(redis.call('GET', P .. ':seq') or '0')
            redis.call('SET', P .. ':left', seq - redis.call('ZCARD', P .. ':waiting'))
            redis.call('SET', P .. ':stale', seq)
          end
        end
        local function mark_stale(seq)
          if tonumber(seq) > tonumber(redis.call('GET', P .. ':stale') or '0') then redis.call('SET', P .. ':stale', seq) end
        end
        local function leave_waiting(id)
          local seq = redis.call('ZSCORE', P .. ':waiting', id)
          if not seq then return end
          ensure_counters()
          redis.call('ZREM', P .. ':waiting', id)
          redis.call('INCR', P .. ':left')
          if #redis.call('ZRANGEBYSCORE', P .. ':waiting', '-inf', '(' .. seq, 'LIMIT', 0, 1) > 0 then mark_stale(seq) end
        end
        local function return_waiting(id, seq)
          ensure_counters()
          if redis.call('ZADD', P .. ':waiting', seq, id) == 1 then
            redis.call('DECR', P .. ':left')
            mark_stale(seq)
          end
        end
        -- Sets a final state; the record then expires after the retention of its kind (an async job leaves a Gone marker
        -- for as long again). A delivered entry no worker holds is acknowledged; one a worker holds is acknowledged when
        -- the worker completes its lease (or by the reaper).
        local function finish(id, state, images, failure, async_ms, sync_ms)
          local k = jkey(id)
          redis.call('HSET', k, 'state', state, 'images', images, 'failure', failure, 'owner', '', 'finished', now_ms())
          local kind, idem, delivered, lowner, stream, entry = unpack(redis.call('HMGET', k, 'kind', 'idem', 'delivered', 'lowner', 'stream', 'entry'))
          leave_waiting(id)
          redis.call('ZREM', wkey(stream), id)
          if delivered == '1' and lowner == '' then
            redis.call('XACK', stream, GROUP, entry)
            redis.call('XDEL', stream, entry)
          end
          local keep = tonumber(sync_ms)
          if kind == 'Async' then keep = tonumber(async_ms) end
          redis.call('PEXPIRE', k, keep)
          if idem ~= '' then redis.call('PEXPIRE', P .. ':idem:' .. idem, keep) end
          if kind == 'Async' then
            -- The marker keeps the API key's owner hash ('o:HASH', or '1' without keys): another key's 404 stays a 404.
            local job = cjson.decode(redis.call('HGET', k, 'job'))
            local marker = '1'
            if type(job['owner']) == 'string' then marker = 'o:' .. job['owner'] end
            redis.call('SET', P .. ':gone:' .. id, marker, 'PX', keep * 2)
          end
        end
        """;

    /// <summary>
    /// Admission. ARGV: 2 id, 3 descriptor JSON, 4 stream key, 5 batch key, 6 image count, 7 kind, 8 total steps,
    /// 9 idempotency key or '', 10 capacity. Returns {'dup', id} | {'full', depth} | {'ok', depth, leased}.
    /// </summary>
    public const string Submit = Common + """

        local id, stream, idem = ARGV[2], ARGV[4], ARGV[9]
        if idem ~= '' then
          local earlier = redis.call('GET', P .. ':idem:' .. idem)
          if earlier and redis.call('EXISTS', jkey(earlier)) == 1 then return {'dup', earlier} end
        end
        local depth = redis.call('ZCARD', P .. ':waiting')
        if depth >= tonumber(ARGV[10]) then return {'full', tostring(depth)} end
        if redis.call('EXISTS', stream) == 0 then
          redis.call('XGROUP', 'CREATE', stream, GROUP, '$', 'MKSTREAM')
          redis.call('SADD', P .. ':streams', stream)
        end
        ensure_counters()
        local seq = redis.call('INCR', P .. ':seq')
        local entry = redis.call('XADD', stream, '*', 'job', id)
        redis.call('HSET', jkey(id), 'job', ARGV[3], 'kind', ARGV[7], 'state', 'Queued', 'step', 0, 'total', ARGV[8],
          'cancel', 0, 'owner', '', 'attempt', 0, 'images', '', 'failure', '', 'finished', '',
          'seq', seq, 'stream', stream, 'entry', entry, 'delivered', 0, 'batch', ARGV[5], 'count', ARGV[6],
          'arrived', now_ms(), 'lowner', '', 'lattempt', 0, 'idem', idem)
        redis.call('ZADD', P .. ':waiting', seq, id)
        redis.call('ZADD', wkey(stream), seq, id)
        if idem ~= '' then redis.call('SET', P .. ':idem:' .. idem, id) end
        redis.call('PUBLISH', P .. ':wake', id)
        local d, l = counts()
        return {'ok', d, l}
        """;

    /// <summary>The reaper: claims entries idle past the lease back into the parking consumer (XAUTOCLAIM).</summary>
    private const string Reclaim = """

        -- Entries idle longer than a lease: a worker's means the worker died or stalled; the job goes back to its place,
        -- or, past the attempt limit, fails and goes to the dead-letter stream. The parking consumer's own entries idle
        -- that long are claimed to it again, which changes nothing.
        local function reclaim(lease_ms, max_attempts, async_ms, sync_ms)
          local n = 0
          for _, stream in ipairs(redis.call('SMEMBERS', P .. ':streams')) do
            local start = '0-0'
            for _ = 1, 10 do
              local r = redis.call('XAUTOCLAIM', stream, GROUP, PARK, lease_ms, start, 'COUNT', 100)
              for _, e in ipairs(r[2]) do
                local eid, jid = e[1], e[2][2]
                local k = jkey(jid)
                local st, lowner, lattempt, seq = unpack(redis.call('HMGET', k, 'state', 'lowner', 'lattempt', 'seq'))
                if not st or is_final(st) then
                  redis.call('SREM', P .. ':leased', jid)
                  if st then redis.call('HSET', k, 'lowner', '') end
                  redis.call('XACK', stream, GROUP, eid)
                  redis.call('XDEL', stream, eid)
                elseif lowner ~= '' then
                  n = n + 1
                  redis.call('SREM', P .. ':leased', jid)
                  redis.call('HSET', k, 'lowner', '')
                  if tonumber(lattempt) >= max_attempts then
                    local why = 'the job was abandoned by ' .. lattempt .. ' workers (each stopped renewing its lease); it is not retried again'
                    finish(jid, 'Failed', '', '{"message":"' .. why .. '","aborted":false}', async_ms, sync_ms)
                    redis.call('XADD', P .. ':dead', 'MAXLEN', '~', 10000, '*', 'job', jid, 'attempts', lattempt, 'lastOwner', lowner)
                    -- JobLifecycle announces the other final states; this one is the reaper's. The bus's wire form of
                    -- JobEvent (JobJson: camelCase, enum by name); other fields take their defaults.
                    redis.call('PUBLISH', P .. ':events:' .. jid, '{"jobId":"' .. jid .. '","kind":"Finished"}')
                  else
                    return_waiting(jid, seq)
                    redis.call('ZADD', wkey(stream), seq, jid)
                  end
                end
              end
              start = r[1]
              if start == '0-0' then break end
            end
          end
          if n > 0 then redis.call('PUBLISH', P .. ':wake', 'reclaimed') end
          return n
        end
        """;

    /// <summary>
    /// Runs the reaper, then leases the next batch. ARGV: 2 worker, 3 max images, 4 max delay ms, 5 lease ms,
    /// 6 max attempts, 7 async retention ms, 8 sync retention ms, 9… the streams of the worker's models (none = any model). Returns {'empty', depth, leased} |
    /// {'wait', ms, depth, leased} | {'ok', depth, leased, id, attempt, descriptor, ...}.
    /// </summary>
    public const string Lease = Common + Reclaim + """

        local worker, max_images, max_delay = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        reclaim(ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8])
        -- The head is the oldest job of the worker's models: the lowest admission sequence over their waiting sets.
        local waiting = P .. ':waiting'
        if #ARGV >= 9 then
          local best = nil
          for i = 9, #ARGV do
            local first = redis.call('ZRANGE', wkey(ARGV[i]), 0, 0, 'WITHSCORES')
            if #first > 0 and (best == nil or tonumber(first[2]) < best) then
              best = tonumber(first[2])
              waiting = wkey(ARGV[i])
            end
          end
          if best == nil then
            local d, l = counts()
            return {'empty', d, l}
          end
        end
        local ids = redis.call('ZRANGE', waiting, 0, 255)
        if #ids == 0 then
          local d, l = counts()
          return {'empty', d, l}
        end
        local head_batch, head_count, arrived = unpack(redis.call('HMGET', jkey(ids[1]), 'batch', 'count', 'arrived'))
        local batch, images = {ids[1]}, tonumber(head_count)
        for i = 2, #ids do
          if images >= max_images then break end
          local b, c = unpack(redis.call('HMGET', jkey(ids[i]), 'batch', 'count'))
          c = tonumber(c)
          if b == head_batch and images + c <= max_images then
            batch[#batch + 1] = ids[i]
            images = images + c
          end
        end
        local waited = now_ms() - tonumber(arrived)
        if images < max_images and waited < max_delay then
          local d, l = counts()
          return {'wait', tostring(max_delay - waited), d, l}
        end
        -- Moves a job's stream entry into the group's pending list (parked) if no lease read it yet: entries are read in
        -- stream order, and those of jobs no longer waiting (cancelled meanwhile) are acknowledged on the way.
        local function deliver(k)
          local stream, entry, delivered = unpack(redis.call('HMGET', k, 'stream', 'entry', 'delivered'))
          if delivered == '1' then return stream, entry end
          while true do
            local r = redis.call('XREADGROUP', 'GROUP', GROUP, PARK, 'COUNT', 1, 'STREAMS', stream, '>')
            if not r then return stream, entry end
            local e = r[1][2][1]
            local eid, jid = e[1], e[2][2]
            if redis.call('ZSCORE', P .. ':waiting', jid) then
              redis.call('HSET', jkey(jid), 'delivered', 1)
            else
              redis.call('XACK', stream, GROUP, eid)
              redis.call('XDEL', stream, eid)
            end
            if eid == entry then return stream, entry end
          end
        end
        local out = {'ok', '', ''}
        for _, id in ipairs(batch) do
          local k = jkey(id)
          local stream, entry = deliver(k)
          redis.call('XCLAIM', stream, GROUP, worker, 0, entry, 'JUSTID')
          leave_waiting(id)
          redis.call('ZREM', wkey(stream), id)
          redis.call('SADD', P .. ':leased', id)
          local attempt = redis.call('HINCRBY', k, 'lattempt', 1)
          redis.call('HSET', k, 'lowner', worker)
          out[#out + 1] = id
          out[#out + 1] = tostring(attempt)
          out[#out + 1] = redis.call('HGET', k, 'job')
        end
        out[2], out[3] = counts()
        return out
        """;

    /// <summary>
    /// Heartbeat. ARGV: 2 worker, then pairs of id and attempt. Resets the idle time of each held entry (XCLAIM to the
    /// same consumer); returns the ids no longer held.
    /// </summary>
    public const string Renew = Common + """

        local worker, lost = ARGV[2], {}
        for i = 3, #ARGV, 2 do
          local id, attempt = ARGV[i], ARGV[i + 1]
          local lowner, lattempt, stream, entry = unpack(redis.call('HMGET', jkey(id), 'lowner', 'lattempt', 'stream', 'entry'))
          if lowner == worker and lattempt == attempt then
            redis.call('XCLAIM', stream, GROUP, worker, 0, entry, 'JUSTID')
          else
            lost[#lost + 1] = id
          end
        end
        return lost
        """;

    /// <summary>Ends a held lease for good (acknowledged). ARGV: 2 worker, 3 id, 4 attempt. Returns {depth, leased}.</summary>
    public const string Complete = Common + """

        local worker, id, attempt = ARGV[2], ARGV[3], ARGV[4]
        local k = jkey(id)
        local lowner, lattempt, stream, entry = unpack(redis.call('HMGET', k, 'lowner', 'lattempt', 'stream', 'entry'))
        if lowner == worker and lattempt == attempt then
          redis.call('XACK', stream, GROUP, entry)
          redis.call('XDEL', stream, entry)
          redis.call('HSET', k, 'lowner', '')
          redis.call('SREM', P .. ':leased', id)
        end
        local d, l = counts()
        return {d, l}
        """;

    /// <summary>Gives a held job back at its place, leasable at once. ARGV: 2 worker, 3 id, 4 attempt. Returns {depth, leased}.</summary>
    public const string Release = Common + """

        local worker, id, attempt = ARGV[2], ARGV[3], ARGV[4]
        local k = jkey(id)
        local lowner, lattempt, stream, entry, seq, st = unpack(redis.call('HMGET', k, 'lowner', 'lattempt', 'stream', 'entry', 'seq', 'state'))
        if lowner == worker and lattempt == attempt then
          redis.call('SREM', P .. ':leased', id)
          redis.call('HSET', k, 'lowner', '')
          if is_final(st) then
            redis.call('XACK', stream, GROUP, entry)
            redis.call('XDEL', stream, entry)
          else
            redis.call('XCLAIM', stream, GROUP, PARK, 0, entry, 'JUSTID')
            return_waiting(id, seq)
            redis.call('ZADD', wkey(stream), seq, id)
            redis.call('PUBLISH', P .. ':wake', id)
          end
        end
        local d, l = counts()
        return {d, l}
        """;

    /// <summary>
    /// A waiting job's place, 1 = next (see leave_waiting in the helpers): its seq minus P:left when it is past the stale
    /// mark, O(1); else its rank in P:waiting, O(log N). ARGV: 2 id. Returns the position, or -1 when it is not waiting.
    /// </summary>
    public const string Position = """

        local P = ARGV[1]
        local seq = redis.call('ZSCORE', P .. ':waiting', ARGV[2])
        if not seq then return -1 end
        local left = redis.call('GET', P .. ':left')
        if left and tonumber(seq) > tonumber(redis.call('GET', P .. ':stale') or '0') then return tonumber(seq) - tonumber(left) end
        return redis.call('ZRANK', P .. ':waiting', ARGV[2]) + 1
        """;

    /// <summary>Queued → Running for a fence, or a takeover by a newer attempt. ARGV: 2 id, 3 owner, 4 attempt.</summary>
    public const string Start = Common + """

        local k, owner, attempt = jkey(ARGV[2]), ARGV[3], tonumber(ARGV[4])
        local st, a = unpack(redis.call('HMGET', k, 'state', 'attempt'))
        if not st then return 'Superseded' end
        if is_final(st) then return 'Finished' end
        a = tonumber(a)
        local takes_over = st == 'Running' and a < attempt
        if st ~= 'Queued' and not takes_over then return 'Superseded' end
        if st == 'Queued' and a >= attempt then return 'Superseded' end
        redis.call('HSET', k, 'state', 'Running', 'owner', owner, 'attempt', attempt, 'step', 0)
        return 'Started'
        """;

    /// <summary>Fenced progress. ARGV: 2 id, 3 owner, 4 attempt, 5 step, 6 total. Returns 1 when written.</summary>
    public const string Progress = Common + """

        if not held(ARGV[2], ARGV[3], ARGV[4]) then return 0 end
        redis.call('HSET', jkey(ARGV[2]), 'step', ARGV[5], 'total', ARGV[6])
        return 1
        """;

    /// <summary>Fenced Running → Queued. ARGV: 2 id, 3 owner, 4 attempt. Returns 1 when written.</summary>
    public const string Requeue = Common + """

        if not held(ARGV[2], ARGV[3], ARGV[4]) then return 0 end
        redis.call('HSET', jkey(ARGV[2]), 'state', 'Queued', 'owner', '', 'step', 0)
        return 1
        """;

    /// <summary>
    /// A final state: fenced (ARGV 3 owner, 4 attempt) from Running, or without a fence (owner '') from Queued only.
    /// ARGV: 2 id, 5 state, 6 images JSON, 7 failure JSON, 8 async retention ms, 9 sync retention ms. Returns 1 when written.
    /// </summary>
    public const string Finish = Common + """

        local id, owner = ARGV[2], ARGV[3]
        if owner ~= '' then
          if not held(id, owner, ARGV[4]) then return 0 end
        elseif redis.call('HGET', jkey(id), 'state') ~= 'Queued' then
          return 0
        end
        finish(id, ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
        return 1
        """;

    /// <summary>
    /// A client's cancel. ARGV: 2 id, 3 async retention ms, 4 sync retention ms. Returns {result} or {result, field, value, ...}
    /// (the record after it) where result is Cancelled, Requested, AlreadyFinished, Gone or NotFound.
    /// </summary>
    public const string Cancel = Common + """

        local id = ARGV[2]
        local k = jkey(id)
        local st = redis.call('HGET', k, 'state')
        if not st then
          if redis.call('EXISTS', P .. ':gone:' .. id) == 1 then return {'Gone'} end
          return {'NotFound'}
        end
        local result = 'AlreadyFinished'
        if st == 'Queued' then
          redis.call('HSET', k, 'cancel', 1)
          finish(id, 'Cancelled', '', '', ARGV[3], ARGV[4])
          result = 'Cancelled'
        elseif st == 'Running' then
          redis.call('HSET', k, 'cancel', 1)
          result = 'Requested'
        end
        local out = {result}
        for _, v in ipairs(redis.call('HGETALL', k)) do out[#out + 1] = v end
        return out
        """;
}
