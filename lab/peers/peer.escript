#!/usr/bin/env escript
%% peer.escript: the lab's Erlang/OTP TLS server and client (the `ssl` application: OTP's own
%% TLS implementation, not OpenSSL's; OpenSSL is used only for crypto primitives).
%%
%%   escript lab/peers/peer.escript server --port P --cert LEAF.pem --key KEY.pem
%%           --chain CAS.pem [--versions tlsv1.3,tlsv1.2] [--verify-client CA-FILE-IN-CHAIN]
%%           [--alpn a,b] [--groups x448,...] [--keylog F]
%%   escript lab/peers/peer.escript client --port P --host www.lab.test --cafile ROOT.pem
%%           [--versions ...] [--cert C --key K] [--alpn a,b] [--groups ...] [--keylog F]
%%
%% --chain is the server's cacertfile: the intermediates it sends, and for --verify-client
%% also the CAs whose client certificates it accepts (verify_peer, fail_if_no_peer_cert).
%% The client verifies the chain and the name (server_name_indication), sends one HTTP/1.1
%% GET, reads the response head, prints the status line, closes (close_notify), or "error: <reason>" and exits 1; the server prints
%% "error: ..." for every failed handshake. Key log: OTP hands out the secrets
%% (keep_secrets, ssl:connection_information/2 keylog) only for a completed handshake.
-mode(compile).

main([Role | Args]) ->
    {ok, _} = application:ensure_all_started(ssl),
    Opts = opts(Args, #{}),
    case Role of
        "server" -> server(Opts);
        _ -> client(Opts)
    end.

opts([[$-, $- | K], V | T], M) -> opts(T, M#{K => V});
opts([], M) -> M.

list(S) -> string:tokens(S, ",").
atoms(S) -> [list_to_atom(X) || X <- list(S)].
bins(S) -> [list_to_binary(X) || X <- list(S)].

common(O) ->
    lists:append([
        [{versions, atoms(maps:get("versions", O, "tlsv1.3,tlsv1.2"))}],
        [{supported_groups, atoms(G)} || G <- [maps:get("groups", O, none)], G =/= none],
        [{certfile, C} || C <- [maps:get("cert", O, none)], C =/= none],
        [{keyfile, K} || K <- [maps:get("key", O, none)], K =/= none],
        [{keep_secrets, true}, {active, false}, binary]]).

keylog(O, S) ->
    case {maps:get("keylog", O, none), ssl:connection_information(S, [keylog])} of
        {none, _} -> ok;
        {F, {ok, [{keylog, Lines}]}} ->
            file:write_file(F, [[L, $\n] || L <- Lines], [append]);
        _ -> ok
    end.

client(O) ->
    Host = maps:get("host", O, "www.lab.test"),
    Opts = common(O) ++ [{verify, verify_peer}, {cacertfile, maps:get("cafile", O)},
                         {server_name_indication, Host}]
           ++ [{alpn_advertised_protocols, bins(A)} || A <- [maps:get("alpn", O, none)], A =/= none],
    case ssl:connect("127.0.0.1", list_to_integer(maps:get("port", O)), Opts, 5000) of
        {ok, S} ->
            keylog(O, S),
            {ok, [{protocol, P}]} = ssl:connection_information(S, [protocol]),
            io:format("handshake: ~p~n", [P]),
            ok = ssl:send(S, ["GET / HTTP/1.1\r\nHost: ", Host, "\r\nConnection: close\r\n\r\n"]),
            Resp = recv_all(S, <<>>),
            [Status | _] = binary:split(Resp, <<"\r\n">>),
            io:format("~s~n", [Status]),
            ssl:close(S),
            halt(0);
        {error, R} ->
            io:format("error: ~ts~n", [one_line(R)]),
            halt(1)
    end.

recv_all(S, Acc) ->  % up to the end of the response head: the client checks the status
    case binary:match(Acc, <<"\r\n\r\n">>) of
        nomatch ->
            case ssl:recv(S, 0, 5000) of
                {ok, D} -> recv_all(S, <<Acc/binary, D/binary>>);
                {error, _} -> Acc
            end;
        _ -> Acc
    end.

server(O) ->
    Verify = case maps:get("verify-client", O, none) of
                 none -> [{verify, verify_none}];
                 _ -> [{verify, verify_peer}, {fail_if_no_peer_cert, true}]
             end,
    Opts = common(O) ++ Verify ++ [{cacertfile, maps:get("chain", O)}, {reuseaddr, true},
                                           {ip, {127, 0, 0, 1}}]
           ++ [{alpn_preferred_protocols, bins(A)} || A <- [maps:get("alpn", O, none)], A =/= none],
    {ok, L} = ssl:listen(list_to_integer(maps:get("port", O)), Opts),
    io:format("listening~n"),
    loop(O, L).

loop(O, L) ->
    {ok, T} = ssl:transport_accept(L),
    case ssl:handshake(T, 10000) of
        {ok, S} ->
            keylog(O, S),
            _ = ssl:recv(S, 0, 5000),
            Body = <<"TLS lab (Erlang/OTP ssl)\n">>,
            ssl:send(S, [<<"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ">>,
                         integer_to_list(byte_size(Body)), <<"\r\nConnection: close\r\n\r\n">>, Body]),
            {ok, [{protocol, P}]} = ssl:connection_information(S, [protocol]),
            io:format("served ~p~n", [P]),
            ssl:close(S);
        {error, R} ->
            io:format("error: ~ts~n", [one_line(R)])
    end,
    loop(O, L).

one_line(Term) ->  % the reason on one line, so that the lab's sidecars keep all of it
    re:replace(io_lib:format("~p", [Term]), "\\s+", " ", [global, unicode, {return, list}]).
